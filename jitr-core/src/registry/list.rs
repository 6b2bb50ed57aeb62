//! Listing with pages (docs/behaviour.md §4, §5).

use std::collections::BTreeMap;

use serde::Serialize;

use super::Registry;
use crate::error::Error;
use crate::id::CertificateId;
use crate::status::{CaStatus, CertificateMode, CertificateStatus};
use crate::store::{LinkEnd, NamePage, PageQuery, Reader};
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

/// Checks the request and says which rows to read: one more than the page, after the
/// marker.
fn query(req: &ListRequest) -> Result<(PageQuery, usize), Error> {
    let size = req.page_size.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&size) {
        return Err(Error::InvalidRequest(format!(
            "pageSize must be from 1 to {MAX_PAGE_SIZE}, got {size}"
        )));
    }
    let after = req.marker.as_deref().map(decode_marker).transpose()?;
    let size = size as usize;
    Ok((
        PageQuery {
            after,
            ascending: req.ascending_order,
            limit: size + 1,
        },
        size,
    ))
}

/// Cuts a page from rows read with [`query`]: the marker is the last row's key when
/// another row follows.
fn cut<R, T>(rows: Vec<R>, size: usize, key: impl Fn(&R) -> Key, item: impl Fn(R) -> T) -> Page<T> {
    page_of(rows, size, |r| encode_marker(key(r)), item)
}

/// The first `size` of `rows` (a page and one more, when there are more), each made an
/// item by `item`; when another row follows, the marker is the last one's `marker`.
fn page_of<R, T>(
    mut rows: Vec<R>,
    size: usize,
    marker: impl Fn(&R) -> String,
    item: impl FnMut(R) -> T,
) -> Page<T> {
    let more = rows.len() > size;
    rows.truncate(size);
    let next_marker = if more { rows.last().map(marker) } else { None };
    Page {
        items: rows.into_iter().map(item).collect(),
        next_marker,
    }
}

/// The page of a list ordered by name (policies, targets, things): one more than asked,
/// after the marker's name.
pub(crate) fn name_query(req: &ListRequest) -> Result<(NamePage, usize), Error> {
    let size = req.page_size.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&size) {
        return Err(Error::InvalidRequest(format!(
            "pageSize must be from 1 to {MAX_PAGE_SIZE}, got {size}"
        )));
    }
    let after = req
        .marker
        .as_deref()
        .map(|m| {
            hex::decode(m)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .filter(|n| !n.is_empty())
                .ok_or_else(|| {
                    Error::InvalidRequest("the marker is not one this service returned".into())
                })
        })
        .transpose()?;
    Ok((
        NamePage {
            after,
            ascending: req.ascending_order,
            limit: size as usize + 1,
        },
        size as usize,
    ))
}

/// [`name_query`] for the lists AWS keeps in one order (by name, ascending).
pub(crate) fn name_query_ascending(req: &ListRequest) -> Result<(NamePage, usize), Error> {
    let (mut page, size) = name_query(req)?;
    page.ascending = true;
    Ok((page, size))
}

/// Cuts a page from names read with [`name_query`]; the marker is the last name's hex.
pub(crate) fn name_cut<T>(
    names: Vec<String>,
    size: usize,
    item: impl FnMut(String) -> T,
) -> Page<T> {
    page_of(names, size, |n| hex::encode(n), item)
}

/// Cuts a page from rows read with [`name_query_ascending`]: in the order of their names
/// (`name`; of two rows of one name, the later), each made an item by `item`; the marker
/// is the last name's hex.
pub(crate) fn rows_cut<R, T>(
    rows: Vec<R>,
    size: usize,
    name: impl Fn(&R) -> &str,
    mut item: impl FnMut(R) -> T,
) -> Page<T> {
    let by_name: BTreeMap<String, R> = rows
        .into_iter()
        .map(|r| (name(&r).to_string(), r))
        .collect();
    let rows: Vec<(String, R)> = by_name.into_iter().collect();
    page_of(rows, size, |(n, _)| hex::encode(n), |(_, r)| item(r))
}

impl Registry {
    /// A page (read with [`name_query`]) of the names at the other end of `end`'s links,
    /// once `exists` has found the resource at this end (else its not-found error),
    /// each made an item by `item`.
    pub(crate) fn list_linked<T>(
        &self,
        (page, size): (NamePage, usize),
        end: LinkEnd<'_>,
        exists: impl Fn(&mut dyn Reader) -> Result<(), Error>,
        item: impl FnMut(String) -> T,
    ) -> Result<Page<T>, Error> {
        let names = self.read(|r| {
            exists(r)?;
            Ok(r.links(&self.scope, end, &page)?
                .into_iter()
                .map(|(n, _)| n)
                .collect::<Vec<_>>())
        })?;
        Ok(name_cut(names, size, item))
    }
}

/// Declares the `Registry` methods that list a page of the names linked to one resource
/// (with [`Registry::list_linked`]), a row each:
///
/// ```text
/// /// The method's doc.
/// fn method(reg, arg) -> Item, order, End(LinkKind),
///     [before check(arg),] [exists |reader| check(reader, arg),] item |name| make(name);
/// ```
///
/// declares `pub fn method(&self, arg: &str, req: &ListRequest) -> Result<Page<Item>,
/// Error>`, in which `reg` is `self`. It runs `before` first (a check of `arg` that needs
/// no store), reads the page `order` ([`name_query`] or [`name_query_ascending`]) asks for
/// of the names at the other end of the links `End(LinkKind, arg)`, once `exists` has found
/// `arg` in that read (no check when absent), and makes each name an item.
macro_rules! list_by_link {
    (@exists) => { |_| Ok(()) };
    (@exists $r:pat_param => $exists:expr) => { |$r| $exists };
    ($(
        $(#[$doc:meta])*
        fn $method:ident($reg:ident, $arg:ident) -> $item:ty, $order:ident, $end:ident($kind:ident),
            $(before $before:expr,)? $(exists |$r:pat_param| $exists:expr,)? item |$n:pat_param| $make:expr;
    )+) => {
        impl $crate::registry::Registry {
            $(
                $(#[$doc])*
                pub fn $method(
                    &self,
                    $arg: &str,
                    req: &$crate::registry::list::ListRequest,
                ) -> Result<$crate::registry::list::Page<$item>, $crate::error::Error> {
                    let $reg = self;
                    $($before?;)?
                    self.list_linked(
                        $crate::registry::list::$order(req)?,
                        $crate::store::LinkEnd::$end($crate::store::LinkKind::$kind, $arg),
                        $crate::registry::list::list_by_link!(@exists $($r => $exists)?),
                        |$n| $make,
                    )
                }
            )+
        }
    };
}
pub(crate) use list_by_link;

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
    /// ListCertificates: one page in (creation date, ID) order, read from the store's
    /// index (O(page + log n) at any marker).
    pub fn list_certificates(&self, req: &ListRequest) -> Result<Page<CertificateSummary>, Error> {
        self.list_certificates_where(None, req)
    }

    /// ListCertificatesByCA: the device certificates that name `ca_id` as their CA
    /// (including those of a CA since deleted).
    pub fn list_certificates_by_ca(
        &self,
        ca_id: &CertificateId,
        req: &ListRequest,
    ) -> Result<Page<CertificateSummary>, Error> {
        self.list_certificates_where(Some(ca_id), req)
    }

    fn list_certificates_where(
        &self,
        ca: Option<&CertificateId>,
        req: &ListRequest,
    ) -> Result<Page<CertificateSummary>, Error> {
        let (q, size) = query(req)?;
        let rows = self.read(|r| r.list_certificate_summaries(&self.scope, ca, &q))?;
        Ok(cut(
            rows,
            size,
            |r| (r.creation_date, r.certificate_id),
            |r| CertificateSummary {
                certificate_arn: self.scope.certificate_arn(&r.certificate_id),
                certificate_id: r.certificate_id,
                status: r.status,
                certificate_mode: r.certificate_mode,
                creation_date: r.creation_date,
            },
        ))
    }

    /// ListCACertificates.
    pub fn list_ca_certificates(
        &self,
        req: &ListRequest,
    ) -> Result<Page<CaCertificateSummary>, Error> {
        self.list_ca_certificates_for(req, None)
    }

    /// ListCACertificates with its `templateName` filter: the CAs whose registration
    /// config names that provisioning template (a page holds `pageSize` of them).
    pub fn list_ca_certificates_for(
        &self,
        req: &ListRequest,
        template_name: Option<&str>,
    ) -> Result<Page<CaCertificateSummary>, Error> {
        let (mut q, size) = query(req)?;
        let rows = self.read(|r| {
            let Some(name) = template_name else {
                return r.list_cas(&self.scope, &q);
            };
            // Reads on past the CAs of other templates until the page (and one more) is
            // full or the list ends.
            let mut kept = Vec::new();
            loop {
                let batch = r.list_cas(&self.scope, &q)?;
                let done = batch.len() < q.limit;
                q.after = batch
                    .last()
                    .map(|c| (c.meta.creation_date, c.certificate_id));
                kept.extend(batch.into_iter().filter(|c| {
                    c.registration_config
                        .as_ref()
                        .and_then(|cfg| cfg.template_name.as_deref())
                        == Some(name)
                }));
                if done || kept.len() > size {
                    kept.truncate(size + 1);
                    return Ok(kept);
                }
            }
        })?;
        Ok(cut(
            rows,
            size,
            |r| (r.meta.creation_date, r.certificate_id),
            |r| CaCertificateSummary {
                certificate_arn: self.scope.ca_certificate_arn(&r.certificate_id),
                certificate_id: r.certificate_id,
                status: r.status,
                creation_date: r.meta.creation_date,
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(n: u8) -> Vec<Key> {
        (0..n)
            .map(|i| {
                (
                    Timestamp::from_unix_millis(i64::from(i / 2)),
                    CertificateId::from_bytes([i; 32]),
                )
            })
            .collect()
    }

    /// The memory store's paging, on a plain sorted list.
    fn read(all: &[Key], q: &PageQuery) -> Vec<Key> {
        let mut v: Vec<Key> = all
            .iter()
            .copied()
            .filter(|k| match (q.after, q.ascending) {
                (None, _) => true,
                (Some(a), true) => *k > a,
                (Some(a), false) => *k < a,
            })
            .collect();
        v.sort();
        if !q.ascending {
            v.reverse();
        }
        v.truncate(q.limit);
        v
    }

    fn all_pages(n: u8, size: u32, ascending_order: bool) -> Vec<u8> {
        let all = keys(n);
        let mut req = ListRequest {
            page_size: Some(size),
            marker: None,
            ascending_order,
        };
        let mut out = Vec::new();
        loop {
            let (q, sz) = query(&req).unwrap();
            let page = cut(read(&all, &q), sz, |k| *k, |k| k.1.as_bytes()[0]);
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
            assert_eq!(query(&req).unwrap_err().code(), "InvalidRequestException");
        }
        for marker in ["", "zz", &"g".repeat(80), &"0".repeat(79)] {
            let req = ListRequest {
                marker: Some(marker.to_string()),
                ..Default::default()
            };
            assert_eq!(query(&req).unwrap_err().code(), "InvalidRequestException");
        }
    }

    /// Rows read by name come out in name order (the later of two of one name), a page
    /// at a time, the marker the last name's hex while more follow; the marker reads back
    /// as the name to go on after.
    #[test]
    fn rows_cut_pages_rows_by_name() {
        let rows = vec![("b", 1), ("c", 2), ("a", 3), ("b", 4)];
        let page = rows_cut(rows.clone(), 2, |r| r.0, |r| r.1);
        assert_eq!(page.items, vec![3, 4]);
        assert_eq!(page.next_marker.as_deref(), Some(hex::encode("b").as_str()));
        let req = ListRequest {
            marker: page.next_marker,
            ..ListRequest::default()
        };
        assert_eq!(
            name_query_ascending(&req).unwrap().0.after.as_deref(),
            Some("b")
        );
        let last = rows_cut(rows, 3, |r| r.0, |r| r.1);
        assert_eq!(last.items, vec![3, 4, 2]);
        assert_eq!(last.next_marker, None);
    }
}
