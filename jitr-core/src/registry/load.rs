//! The startup load's two halves: decoding the rows a store streams, and inserting them
//! into the shards.

#[cfg(not(target_arch = "wasm32"))]
use std::sync::mpsc;

use super::{shard, write, Caches, SHARDS};
use crate::store::{CaRow, HotRow, Loader};
use crate::{CertificateId, Timestamp};

/// Entries buffered per shard before one write lock inserts them all.
const BATCH: usize = 64;
/// Rows per chunk handed from the decoder to the inserter.
#[cfg(not(target_arch = "wasm32"))]
const CHUNK: usize = 4096;
/// Chunks the decoder may run ahead of the inserter.
#[cfg(not(target_arch = "wasm32"))]
pub(super) const IN_FLIGHT: usize = 4;

pub(super) type Row = (usize, CertificateId, shard::HotEntry, Timestamp);

/// Inserts rows into the shards in batches, one write lock per shard and batch
/// rather than one per row.
pub(super) struct Insert<'a> {
    caches: &'a Caches,
    batches: Vec<Vec<Row>>,
}

impl<'a> Insert<'a> {
    pub(super) fn new(caches: &'a Caches) -> Self {
        Self {
            caches,
            batches: (0..SHARDS).map(|_| Vec::with_capacity(BATCH)).collect(),
        }
    }

    fn push(&mut self, row: Row) {
        let i = row.0;
        self.batches[i].push(row);
        if self.batches[i].len() == BATCH {
            self.flush(i);
        }
    }

    #[cfg(not(target_arch = "wasm32"))]
    pub(super) fn extend(&mut self, rows: &mut Vec<Row>) {
        for row in rows.drain(..) {
            self.push(row);
        }
    }

    fn flush(&mut self, i: usize) {
        let mut s = write(&self.caches.shards[i]);
        for (_, id, entry, at) in self.batches[i].drain(..) {
            s.put(&id, entry, at);
        }
    }

    pub(super) fn finish(&mut self) {
        for i in 0..SHARDS {
            self.flush(i);
        }
    }
}

/// Where decoded rows go: straight into the shards, or in chunks to the inserter.
pub(super) enum Sink<'a> {
    Insert(Insert<'a>),
    #[cfg(not(target_arch = "wasm32"))]
    Send {
        tx: mpsc::SyncSender<Vec<Row>>,
        /// Chunks the inserter has emptied, to fill again.
        reuse: mpsc::Receiver<Vec<Row>>,
        chunk: Vec<Row>,
    },
}

/// Turns the rows a store streams into hot entries: the CA slot of the previous row
/// is reused (rows of one CA come in runs, or all from a few CAs).
pub(super) struct Decode<'a> {
    caches: &'a Caches,
    cas: Vec<CaRow>,
    last_ca: Option<(CertificateId, u32)>,
    sink: Sink<'a>,
}

impl<'a> Decode<'a> {
    pub(super) fn new(caches: &'a Caches, sink: Sink<'a>) -> Self {
        Self {
            caches,
            cas: Vec::new(),
            last_ca: None,
            sink,
        }
    }

    /// Hands over what is buffered and closes the sink (dropping the sender ends the
    /// inserter's loop); returns the CA rows.
    pub(super) fn finish(self) -> Vec<CaRow> {
        match self.sink {
            Sink::Insert(mut insert) => insert.finish(),
            #[cfg(not(target_arch = "wasm32"))]
            Sink::Send { tx, chunk, .. } => {
                if !chunk.is_empty() {
                    // The inserter ends only when the sender is dropped: it is there.
                    let _ = tx.send(chunk);
                }
            }
        }
        self.cas
    }
}

impl Loader for Decode<'_> {
    fn ca(&mut self, row: CaRow) {
        self.cas.push(row);
    }

    fn certificate(&mut self, row: HotRow) {
        let slot = match (row.ca_id, self.last_ca) {
            (Some(ca), Some((last, slot))) if ca == last => slot,
            (Some(ca), _) => {
                let slot = self.caches.ca_slot(Some(ca));
                self.last_ca = Some((ca, slot));
                slot
            }
            (None, _) => shard::NO_CA,
        };
        let entry = shard::HotEntry::new(row.status, &row.validity, slot);
        let r = (
            Caches::shard_index(&row.id),
            row.id,
            entry,
            row.creation_date,
        );
        match &mut self.sink {
            Sink::Insert(insert) => insert.push(r),
            #[cfg(not(target_arch = "wasm32"))]
            Sink::Send { tx, reuse, chunk } => {
                if chunk.capacity() == 0 {
                    *chunk = reuse
                        .try_recv()
                        .unwrap_or_else(|_| Vec::with_capacity(CHUNK));
                }
                chunk.push(r);
                if chunk.len() == CHUNK {
                    // The inserter only stops once this sender is dropped.
                    let _ = tx.send(std::mem::take(chunk));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use crate::store::{
        unavailable, Backend, Committed, HotRow, Import, Loader, MemoryStore, Reader, WriteFn,
    };
    use crate::{
        CertificateId, CertificateStatus, Error, Registry, RegistryConfig, Scope, Store, Timestamp,
        Validity,
    };

    const STATUSES: [CertificateStatus; 4] = [
        CertificateStatus::Active,
        CertificateStatus::Inactive,
        CertificateStatus::PendingActivation,
        CertificateStatus::Revoked,
    ];

    /// A store whose load streams `n` synthetic certificates (runs of 1,000 per CA, some
    /// with no CA, every status), then fails if `fail`.
    struct Synthetic {
        inner: MemoryStore,
        n: u64,
        fail: bool,
    }

    fn row(i: u64) -> HotRow {
        let mut id = [0u8; 32];
        id[..8].copy_from_slice(&i.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_le_bytes());
        id[8..16].copy_from_slice(&i.to_le_bytes());
        let ca = (i / 1000) % 4;
        HotRow {
            id: CertificateId::from_bytes(id),
            ca_id: (ca != 3).then(|| CertificateId::from_bytes([ca as u8 + 1; 32])),
            status: STATUSES[(i % 4) as usize],
            validity: Validity {
                not_before: Timestamp::from_unix_secs(1_700_000_000 + i as i64),
                not_after: Timestamp::from_unix_secs(1_800_000_000 + i as i64),
            },
            creation_date: Timestamp::from_unix_millis(1_750_000_000_000 + i as i64),
        }
    }

    impl Backend for Synthetic {
        fn write(&self, scope: &Scope, f: &mut WriteFn<'_>) -> Result<Vec<Committed>, Error> {
            self.inner.write(scope, f)
        }
        fn read(
            &self,
            f: &mut dyn FnMut(&mut dyn Reader) -> Result<(), Error>,
        ) -> Result<(), Error> {
            self.inner.read(f)
        }
        fn changes_since(&self, seq: u64, limit: usize) -> Result<Option<Vec<Committed>>, Error> {
            self.inner.changes_since(seq, limit)
        }
        fn load(&self, scope: &Scope, loader: &mut dyn Loader) -> Result<u64, Error> {
            let seq = self.inner.load(scope, loader)?;
            for i in 0..self.n {
                loader.certificate(row(i));
            }
            if self.fail {
                return Err(unavailable("the test cut the load short"));
            }
            Ok(seq)
        }
        fn wait(&self, timeout: Duration) -> Result<u64, Error> {
            self.inner.wait(timeout)
        }
        fn is_shared(&self) -> bool {
            false
        }
        fn import(&self, scope: &Scope, state: &Import) -> Result<(), Error> {
            self.inner.import(scope, state)
        }
    }

    fn open(n: u64, fail: bool) -> Result<Registry, Error> {
        let store = Store::with_backend(Arc::new(Synthetic {
            inner: MemoryStore::default(),
            n,
            fail,
        }));
        let scope = Scope::new("123456789012", "us-east-1").unwrap();
        Registry::open(scope, RegistryConfig::default(), &store)
    }

    #[test]
    fn every_streamed_row_is_in_the_hot_index_as_streamed() {
        // Several chunks, a partial last one, and batches of every shard.
        let n = 5 * super::CHUNK as u64 + 17;
        let reg = open(n, false).unwrap();
        assert_eq!(reg.certificate_count() as u64, n);
        let caches = &reg.caches;
        for i in 0..n {
            let want = row(i);
            let shard = crate::registry::read(caches.shard(&want.id));
            let got = shard
                .hot(&want.id)
                .unwrap_or_else(|| panic!("row {i} missing"));
            assert_eq!(got.status(), want.status, "row {i}");
            assert_eq!(got.validity(), want.validity, "row {i}");
            assert_eq!(caches.ca_of_slot(got.ca_slot()), want.ca_id, "row {i}");
            let pending = want.status == CertificateStatus::PendingActivation;
            assert_eq!(
                shard.registered_at(&want.id),
                pending.then_some(want.creation_date),
                "row {i}"
            );
        }
    }

    #[test]
    fn a_load_that_fails_fails_the_open() {
        let Err(err) = open(2 * super::CHUNK as u64, true) else {
            panic!("a registry opened on a load that failed")
        };
        assert!(err.to_string().contains("cut the load short"), "{err}");
    }
}
