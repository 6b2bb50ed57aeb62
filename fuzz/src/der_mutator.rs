//! A structure-aware mutator for DER, after x509-parser's `x509_with_mutator` target
//! (itself adapted from NSS's ASN.1 mutators): find the TLVs of the input, descending
//! into constructed ones, pick one and flip its constructed bit, change its tag or change
//! its length. Byte-level mutations keep a certificate's outer structure intact so
//! rarely that the parsers' deeper code is reached only through mutations like these.
//!
//! Written without `unsafe` (TLVs are ranges of the buffer, not aliasing slices) and
//! with its own seeded PRNG, so a run is reproducible from libFuzzer's seed and the
//! replay test can drive it on stable.

/// One TLV of the input: `start..end` is the whole item, `content..end` its contents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Item {
    /// The tag byte.
    pub start: usize,
    /// The first content byte.
    pub content: usize,
    /// One past the last content byte (clamped to the enclosing item).
    pub end: usize,
}

/// The most items collected from one input (bounds the mutator's own work).
const MAX_ITEMS: usize = 4096;

/// Every TLV of `data`: the top-level ones in order, then the children of each
/// constructed item, breadth first. Lengths running past their parent are clamped.
pub fn items(data: &[u8]) -> Vec<Item> {
    let mut out = Vec::new();
    children(data, 0, data.len(), &mut out);
    let mut i = 0;
    while i < out.len() && out.len() < MAX_ITEMS {
        let it = out[i];
        if data[it.start] & 0x20 != 0 {
            children(data, it.content, it.end, &mut out);
        }
        i += 1;
    }
    out
}

/// Appends the TLVs found one after the other in `data[start..end]`.
fn children(data: &[u8], start: usize, end: usize, out: &mut Vec<Item>) {
    let mut pos = start;
    while pos + 2 <= end && out.len() < MAX_ITEMS {
        let Some(it) = item_at(data, pos, end) else {
            break;
        };
        out.push(it);
        pos = it.end;
    }
}

/// The TLV starting at `pos` (which has at least two bytes before `end`).
fn item_at(data: &[u8], pos: usize, end: usize) -> Option<Item> {
    let first = data[pos + 1];
    let (header, len) = if first < 0x80 {
        (2, usize::from(first))
    } else if first == 0x80 {
        // Indefinite length (BER): the contents run to the end of the parent.
        (2, end - pos - 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n > 4 || pos + 2 + n > end {
            return None;
        }
        let len = data[pos + 2..pos + 2 + n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (2 + n, len)
    };
    let content = pos + header;
    let item_end = content.saturating_add(len).min(end).max(content);
    Some(Item {
        start: pos,
        content,
        end: item_end,
    })
}

/// SplitMix64: small, deterministic, good enough to pick mutations.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded by libFuzzer's seed.
    pub fn new(seed: u32) -> Self {
        Self(u64::from(seed) ^ 0x9e37_79b9_7f4a_7c15)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// Mutates `data[..size]` in place with one DER-aware mutation chosen by `seed`; returns
/// the new size (these mutations never change it). Inputs without a TLV are left alone.
pub fn mutate(data: &mut [u8], size: usize, seed: u32) -> usize {
    let size = size.min(data.len());
    let buf = &mut data[..size];
    let found = items(buf);
    if found.is_empty() {
        return size;
    }
    let mut rng = Rng::new(seed);
    let it = found[rng.below(found.len())];
    match rng.below(3) {
        // Flip the constructed bit: a SEQUENCE read as a primitive, an OCTET STRING as
        // constructed...
        0 => buf[it.start] ^= 0x20,
        // Another universal tag, primitive or constructed.
        1 => {
            let tag = rng.below(31) as u8;
            buf[it.start] = tag | (buf[it.start] & 0x20);
        }
        // One more or one less content byte than the encoding holds.
        _ => {
            let len_at = it.start + 1;
            let last_len_byte = if buf[len_at] < 0x80 {
                len_at
            } else {
                it.content - 1
            };
            if last_len_byte > len_at || buf[len_at] < 0x80 {
                let b = &mut buf[last_len_byte];
                *b = if rng.below(2) == 0 {
                    b.wrapping_sub(1)
                } else {
                    b.wrapping_add(1)
                };
                // Keep a short-form length short-form.
                if last_len_byte == len_at {
                    *b &= 0x7f;
                }
            }
        }
    }
    size
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_items() {
        // SEQUENCE { INTEGER 1, SEQUENCE { NULL } }
        let der = [0x30, 0x07, 0x02, 0x01, 0x01, 0x30, 0x02, 0x05, 0x00];
        let found = items(&der);
        assert_eq!(found.len(), 4);
        assert_eq!(
            found[0],
            Item {
                start: 0,
                content: 2,
                end: 9
            }
        );
        assert_eq!(
            found[3],
            Item {
                start: 7,
                content: 9,
                end: 9
            }
        );
    }
}
