//! Device certificates in one shard: a compact hot map that the decision path reads,
//! and the full records that management operations read, kept in step under one lock.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

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
        // `CertificateId` hashes its `[u8; 32]` and a `HotKey` its `[u8; 16]` as one slice
        // (after a length prefix, which is written with `write_usize` and ignored below).
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

    pub(crate) fn set_status(&mut self, status: CertificateStatus) {
        self.packed = (self.packed & !7) | status_code(status);
    }

    pub(crate) fn validity(&self) -> Validity {
        Validity {
            not_before: Timestamp::from_unix_secs(i64::from(self.not_before)),
            not_after: Timestamp::from_unix_secs(i64::from(self.not_after)),
        }
    }
}

/// The hot map's key: the first 16 bytes of the certificate ID (SHA-256). Finding a
/// certificate whose SHA-256 starts with the same 128 bits as a registered one (a second
/// preimage) takes about 2^128 hash computations, the security level of AES-128; the
/// shorter key is what brings an entry to 28 bytes. Registration itself always compares
/// full IDs (the store's key).
pub(crate) type HotKey = [u8; 16];

pub(crate) fn hot_key(id: &CertificateId) -> HotKey {
    let mut k = [0u8; 16];
    k.copy_from_slice(&id.as_bytes()[..16]);
    k
}

#[derive(Default)]
pub(crate) struct Shard {
    hot: HashMap<HotKey, HotEntry, BuildHasherDefault<IdHasher>>,
    /// When each `PENDING_ACTIVATION` certificate was registered (its events carry it).
    /// Pending certificates are few and short-lived.
    pending: IdMap<Timestamp>,
}

impl Shard {
    pub(crate) fn hot(&self, id: &CertificateId) -> Option<HotEntry> {
        self.hot.get(&hot_key(id)).copied()
    }

    pub(crate) fn registered_at(&self, id: &CertificateId) -> Option<Timestamp> {
        self.pending.get(id).copied()
    }

    /// Inserts or replaces a certificate's entry.
    pub(crate) fn put(&mut self, id: &CertificateId, entry: HotEntry, registered_at: Timestamp) {
        self.hot.insert(hot_key(id), entry);
        self.track_pending(id, entry.status(), registered_at);
    }

    /// Changes a certificate's status; false if it is not in the map.
    pub(crate) fn set_status(
        &mut self,
        id: &CertificateId,
        status: CertificateStatus,
        registered_at: Timestamp,
    ) -> bool {
        let Some(h) = self.hot.get_mut(&hot_key(id)) else {
            return false;
        };
        h.set_status(status);
        self.track_pending(id, status, registered_at);
        true
    }

    fn track_pending(&mut self, id: &CertificateId, status: CertificateStatus, at: Timestamp) {
        if status == CertificateStatus::PendingActivation {
            self.pending.insert(*id, at);
        } else {
            self.pending.remove(id);
        }
    }

    pub(crate) fn remove(&mut self, id: &CertificateId) {
        self.hot.remove(&hot_key(id));
        self.pending.remove(id);
    }

    pub(crate) fn clear(&mut self) {
        self.hot.clear();
        self.pending.clear();
    }

    pub(crate) fn len(&self) -> usize {
        self.hot.len()
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
        buckets * (core::mem::size_of::<(HotKey, HotEntry)>() + 1) + 16
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
