//! Listing with pages (docs/behaviour.md §4, §5).

use serde::Serialize;

use super::{read, Registry};
use crate::error::Error;
use crate::id::CertificateId;
use crate::status::{CaStatus, CertificateMode, CertificateStatus};
use crate::time::{as_epoch_seconds, Timestamp};

/// The largest page size.
pub const MAX_PAGE_SIZE: u32 = 250;
/// The page size when none is given.
pub const DEFAULT_PAGE_SIZE: u32 = 25;

/// How to page through a list: by creation date, oldest first if `ascending_order`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListRequest {
    /// 1 to 250; 25 when absent.
    pub page_size: Option<u32>,
    /// The `nextMarker` of the previous page.
    pub marker: Option<String>,
    /// Oldest first (else newest first).
    pub ascending_order: bool,
}

/// One page of results.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass as `marker` to get the next page; `None` on the last page.
    pub next_marker: Option<String>,
}

/// An item of ListCertificates and ListCertificatesByCA.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CertificateSummary {
    /// The ARN.
    pub certificate_arn: String,
    /// The ID.
    pub certificate_id: CertificateId,
    /// The status.
    pub status: CertificateStatus,
    /// The mode.
    pub certificate_mode: CertificateMode,
    /// When it was registered.
    #[serde(serialize_with = "as_epoch_seconds")]
    pub creation_date: Timestamp,
}

/// An item of ListCACertificates.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CaCertificateSummary {
    /// The ARN.
    pub certificate_arn: String,
    /// The ID.
    pub certificate_id: CertificateId,
    /// The status.
    pub status: CaStatus,
    /// When it was registered.
    #[serde(serialize_with = "as_epoch_seconds")]
    pub creation_date: Timestamp,
}

type Key = (Timestamp, CertificateId);

/// Sorts by (creation date, ID), drops everything up to the marker, cuts a page.
fn paginate<T>(mut items: Vec<(Key, T)>, req: &ListRequest) -> Result<Page<T>, Error> {
    let size = req.page_size.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&size) {
        return Err(Error::InvalidRequest(format!(
            "pageSize must be from 1 to {MAX_PAGE_SIZE}, got {size}"
        )));
    }
    let after = req.marker.as_deref().map(decode_marker).transpose()?;
    items.sort_by_key(|a| a.0);
    if !req.ascending_order {
        items.reverse();
    }
    let start = match after {
        None => 0,
        Some(m) => items
            .iter()
            .position(|(k, _)| if req.ascending_order { *k > m } else { *k < m })
            .unwrap_or(items.len()),
    };
    let mut rest = items.into_iter().skip(start);
    let mut page = Vec::new();
    let mut last = None;
    for (key, item) in rest.by_ref().take(size as usize) {
        last = Some(key);
        page.push(item);
    }
    let next_marker = match (rest.next(), last) {
        (Some(_), Some(k)) => Some(encode_marker(k)),
        _ => None,
    };
    Ok(Page {
        items: page,
        next_marker,
    })
}

fn encode_marker((t, id): Key) -> String {
    format!("{:016x}{id}", t.unix_millis() as u64)
}

fn decode_marker(m: &str) -> Result<Key, Error> {
    let bad = || Error::InvalidRequest("the marker is not one this service returned".into());
    if m.len() != 80 || !m.is_ascii() {
        return Err(bad());
    }
    let t = u64::from_str_radix(&m[..16], 16).map_err(|_| bad())?;
    let id = m[16..].parse().map_err(|_| bad())?;
    Ok((Timestamp::from_unix_millis(t as i64), id))
}

impl Registry {
    /// ListCertificates.
    pub fn list_certificates(&self, req: &ListRequest) -> Result<Page<CertificateSummary>, Error> {
        self.list_certificates_where(req, |_| true)
    }

    /// ListCertificatesByCA: the device certificates that name `ca_id` as their CA
    /// (including those of a CA since deleted).
    pub fn list_certificates_by_ca(
        &self,
        ca_id: &CertificateId,
        req: &ListRequest,
    ) -> Result<Page<CertificateSummary>, Error> {
        self.list_certificates_where(req, |r| r.ca_id.as_ref() == Some(ca_id))
    }

    fn list_certificates_where(
        &self,
        req: &ListRequest,
        keep: impl Fn(&super::CertRecord) -> bool,
    ) -> Result<Page<CertificateSummary>, Error> {
        let mut items = Vec::new();
        for shard in self.shards.iter() {
            for (id, r) in read(shard).iter().filter(|(_, r)| keep(r)) {
                items.push((
                    (r.meta.creation_date, *id),
                    CertificateSummary {
                        certificate_arn: self.scope.certificate_arn(id),
                        certificate_id: *id,
                        status: r.status,
                        certificate_mode: r.mode,
                        creation_date: r.meta.creation_date,
                    },
                ));
            }
        }
        paginate(items, req)
    }

    /// ListCACertificates.
    pub fn list_ca_certificates(
        &self,
        req: &ListRequest,
    ) -> Result<Page<CaCertificateSummary>, Error> {
        let items = read(&self.cas)
            .iter()
            .map(|(id, r)| {
                (
                    (r.meta.creation_date, *id),
                    CaCertificateSummary {
                        certificate_arn: self.scope.ca_certificate_arn(id),
                        certificate_id: *id,
                        status: r.status,
                        creation_date: r.meta.creation_date,
                    },
                )
            })
            .collect();
        paginate(items, req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(n: u8) -> Vec<(Key, u8)> {
        (0..n)
            .map(|i| {
                (
                    (
                        Timestamp::from_unix_millis(i64::from(i / 2)),
                        CertificateId::from_bytes([i; 32]),
                    ),
                    i,
                )
            })
            .collect()
    }

    fn all_pages(n: u8, size: u32, ascending_order: bool) -> Vec<u8> {
        let mut req = ListRequest {
            page_size: Some(size),
            marker: None,
            ascending_order,
        };
        let mut out = Vec::new();
        loop {
            let page = paginate(items(n), &req).unwrap();
            assert!(page.items.len() <= size as usize);
            out.extend(page.items);
            match page.next_marker {
                Some(m) => req.marker = Some(m),
                None => return out,
            }
        }
    }

    #[test]
    fn pages_cover_everything_once_in_order() {
        for n in [0u8, 1, 2, 7, 25, 26] {
            for size in [1, 2, 3, 25] {
                let asc = all_pages(n, size, true);
                assert_eq!(asc, (0..n).collect::<Vec<_>>(), "n={n} size={size}");
                let desc = all_pages(n, size, false);
                assert_eq!(desc, (0..n).rev().collect::<Vec<_>>(), "n={n} size={size}");
            }
        }
    }

    #[test]
    fn bad_page_sizes_and_markers() {
        for size in [0, 251] {
            let req = ListRequest {
                page_size: Some(size),
                ..Default::default()
            };
            assert_eq!(
                paginate(items(3), &req).unwrap_err().code(),
                "InvalidRequestException"
            );
        }
        for marker in ["", "zz", &"g".repeat(80), &"0".repeat(79)] {
            let req = ListRequest {
                marker: Some(marker.to_string()),
                ..Default::default()
            };
            assert_eq!(
                paginate(items(3), &req).unwrap_err().code(),
                "InvalidRequestException"
            );
        }
    }
}
