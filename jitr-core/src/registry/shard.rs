//! Device certificates in one shard: a compact hot map that the decision path reads,
//! and the full records that management operations read, kept in step under one lock.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::CertRecord;
use crate::id::CertificateId;
use crate::status::CertificateStatus;
use crate::time::{Timestamp, Validity};

/// Certificate IDs are SHA-256 digests: uniformly distributed, and only a registered
/// certificate (signed by a registered CA) becomes a key, so they need no keyed hash.
/// Bytes 8..16 are used because byte 0 already chose the shard.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // `CertificateId` hashes its `[u8; 32]` as one slice (after a length prefix,
        // which is written with `write_usize` and ignored below).
        if bytes.len() >= 16 {
            let mut b = [0u8; 8];
            b.copy_from_slice(&bytes[8..16]);
            self.0 = u64::from_le_bytes(b);
        } else {
            for &x in bytes {
                self.0 = self.0.rotate_left(8) ^ u64::from(x);
            }
        }
    }

    fn write_usize(&mut self, _: usize) {}
}

pub(crate) type IdMap<V> = HashMap<CertificateId, V, BuildHasherDefault<IdHasher>>;

/// What the decision needs to know about a registered certificate, in 12 bytes: the
/// validity window in seconds and, packed in one word, the status and the slot of the
/// certificate's CA in the registry's CA-ID table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct HotEntry {
    /// notBefore, seconds since the epoch, rounded up and clamped to u32.
    not_before: u32,
    /// notAfter, seconds since the epoch, rounded down and clamped to u32.
    not_after: u32,
    /// `ca_slot << 3 | status`.
    packed: u32,
}

/// The CA slot meaning "no CA".
pub(crate) const NO_CA: u32 = (1 << 29) - 1;

const STATUSES: [CertificateStatus; 6] = [
    CertificateStatus::Active,
    CertificateStatus::Inactive,
    CertificateStatus::Revoked,
    CertificateStatus::PendingTransfer,
    CertificateStatus::RegisterInactive,
    CertificateStatus::PendingActivation,
];

fn status_code(s: CertificateStatus) -> u32 {
    STATUSES.iter().position(|x| *x == s).unwrap_or(1) as u32
}

impl HotEntry {
    /// `ca_slot` must be below [`NO_CA`] or equal to it.
    pub(crate) fn new(status: CertificateStatus, v: &Validity, ca_slot: u32) -> Self {
        // Clamping to 1970..2106 never widens the window: notBefore rounds up, notAfter
        // rounds down, and a date outside the range moves inwards.
        let clamp = |secs: i64| secs.clamp(0, i64::from(u32::MAX)) as u32;
        let nb_ms = v.not_before.unix_millis();
        let nb_secs = nb_ms.div_euclid(1000) + i64::from(nb_ms.rem_euclid(1000) != 0);
        Self {
            not_before: clamp(nb_secs),
            not_after: clamp(v.not_after.unix_secs()),
            packed: (ca_slot.min(NO_CA) << 3) | status_code(status),
        }
    }

    pub(crate) fn status(&self) -> CertificateStatus {
        STATUSES[(self.packed & 7) as usize % STATUSES.len()]
    }

    pub(crate) fn ca_slot(&self) -> u32 {
        self.packed >> 3
    }

    fn set_status(&mut self, status: CertificateStatus) {
        self.packed = (self.packed & !7) | status_code(status);
    }

    pub(crate) fn validity(&self) -> Validity {
        Validity {
            not_before: Timestamp::from_unix_secs(i64::from(self.not_before)),
            not_after: Timestamp::from_unix_secs(i64::from(self.not_after)),
        }
    }
}

#[derive(Default)]
pub(crate) struct Shard {
    hot: IdMap<HotEntry>,
    cold: IdMap<CertRecord>,
}

impl Shard {
    pub(crate) fn hot(&self, id: &CertificateId) -> Option<HotEntry> {
        self.hot.get(id).copied()
    }

    pub(crate) fn get(&self, id: &CertificateId) -> Option<&CertRecord> {
        self.cold.get(id)
    }

    pub(crate) fn contains(&self, id: &CertificateId) -> bool {
        self.hot.contains_key(id)
    }

    /// Inserts a new record whose CA has `ca_slot`; returns false (and changes nothing)
    /// if the ID is taken.
    pub(crate) fn insert_new(
        &mut self,
        id: CertificateId,
        record: CertRecord,
        ca_slot: u32,
    ) -> bool {
        if self.hot.contains_key(&id) {
            return false;
        }
        self.hot
            .insert(id, HotEntry::new(record.status, &record.validity, ca_slot));
        self.cold.insert(id, record);
        true
    }

    /// Changes a record's status (the caller bumps the version).
    pub(crate) fn set_status(
        &mut self,
        id: &CertificateId,
        status: CertificateStatus,
    ) -> Option<&mut CertRecord> {
        let record = self.cold.get_mut(id)?;
        record.status = status;
        if let Some(h) = self.hot.get_mut(id) {
            h.set_status(status);
        }
        Some(record)
    }

    pub(crate) fn remove(&mut self, id: &CertificateId) -> Option<CertRecord> {
        self.hot.remove(id);
        self.cold.remove(id)
    }

    pub(crate) fn len(&self) -> usize {
        self.hot.len()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&CertificateId, &CertRecord)> {
        self.cold.iter()
    }

    /// Bytes the hot map holds (buckets and control bytes), for the memory benchmark.
    pub(crate) fn hot_bytes(&self) -> usize {
        // hashbrown: buckets are a power of two holding at most 7/8 of them; one control
        // byte per bucket plus one group (16) of trailing control bytes.
        let cap = self.hot.capacity();
        if cap == 0 {
            return 0;
        }
        let buckets = (cap * 8 / 7).next_power_of_two();
        buckets * (core::mem::size_of::<(CertificateId, HotEntry)>() + 1) + 16
    }

    /// Inserts a bare hot entry with no record (benchmarks of the hot index only).
    #[cfg(feature = "bench-internals")]
    pub(crate) fn insert_hot_only(&mut self, id: CertificateId, entry: HotEntry) {
        self.hot.insert(id, entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hot_entry_is_small_exact_and_never_widens_the_window() {
        assert_eq!(core::mem::size_of::<HotEntry>(), 12);
        let v = Validity {
            not_before: Timestamp::from_unix_millis(1_500),
            not_after: Timestamp::from_unix_millis(9_500),
        };
        for (slot, status) in [
            (0, CertificateStatus::Active),
            (NO_CA, CertificateStatus::PendingActivation),
            (12345, CertificateStatus::Revoked),
        ] {
            let mut h = HotEntry::new(status, &v, slot);
            assert_eq!((h.status(), h.ca_slot()), (status, slot));
            h.set_status(CertificateStatus::Inactive);
            assert_eq!(
                (h.status(), h.ca_slot()),
                (CertificateStatus::Inactive, slot)
            );
        }
        let h = HotEntry::new(CertificateStatus::Active, &v, 0);
        assert_eq!(h.validity().not_before, Timestamp::from_unix_secs(2));
        assert_eq!(h.validity().not_after, Timestamp::from_unix_secs(9));
        let wide = Validity {
            not_before: Timestamp::from_unix_secs(-100),
            not_after: Timestamp::from_unix_secs(i64::MAX / 2000),
        };
        let h = HotEntry::new(CertificateStatus::Active, &wide, 0);
        assert_eq!(h.validity().not_before, Timestamp::from_unix_secs(0));
        assert_eq!(
            h.validity().not_after,
            Timestamp::from_unix_secs(i64::from(u32::MAX))
        );
    }

    #[test]
    fn id_hasher_uses_the_middle_bytes() {
        use std::hash::BuildHasher;
        let build = BuildHasherDefault::<IdHasher>::default();
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        a[8] = 1;
        b[8] = 2;
        let h = |x: [u8; 32]| build.hash_one(CertificateId::from_bytes(x));
        assert_ne!(h(a), h(b));
        assert_eq!(h(a), 1);
    }
}
