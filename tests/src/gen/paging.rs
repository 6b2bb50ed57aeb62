//! `paging.json`: the three list operations.

use super::catalogue::Pki;
use super::expect::*;
use super::json::obj;
use super::pki::Cert;
use super::scenario::Scenario;

#[rustfmt::skip]
pub(super) fn scenario(p: &Pki) -> Scenario {
    let mut s = Scenario::new(
        "paging",
        "ListCertificates, ListCertificatesByCA and ListCACertificates: first pages of several \
         sizes, ascending and descending by creation time (one certificate per step).",
    );
    let (ed, rsa, p256, d) = (&p.ca_ed.cert, &p.ca_rsa.cert, &p.ca_p256.cert, |n: &str| p.dev(n));

    s.register_ca_ok(ed, &p.v_ed, true, true, "CA 1 (Ed25519)");
    s.register_ca_ok(rsa, &p.v_rsa, true, true, "CA 2 (RSA)");
    s.register_ca_ok(p256, &p.v_p256, false, false, "CA 3 (P-256), INACTIVE");

    // Creation order: c1..c7.
    let c1 = d("device-0001");
    let c2 = d("device-rsa-1");
    let c3 = d("device-0002");
    let c4 = d("device-self-signed");
    let c5 = d("device-0003");
    let c6 = d("device-rsa-2");
    let c7 = d("device-0004");
    s.register_cert(c1, Some(ed), None, cert_ok(&c1.id), "certificate 1 (CA 1)");
    s.register_cert(c2, Some(rsa), Some("ACTIVE"), cert_ok(&c2.id), "certificate 2 (CA 2)");
    s.register_cert(c3, None, None, cert_ok(&c3.id), "certificate 3 (CA 1)");
    s.register_without_ca(c4, None, cert_ok(&c4.id), "certificate 4 (no CA)");
    s.connect(&[c5, ed], true, Outcome::Registered(ed), "certificate 5 (CA 1), registered by JITR");
    s.register_cert(c6, Some(rsa), Some("REVOKED"), cert_ok(&c6.id), "certificate 6 (CA 2)");
    s.register_cert(c7, Some(ed), None, cert_ok(&c7.id), "certificate 7 (CA 1)");
    let all = [c1, c2, c3, c4, c5, c6, c7];

    let lc = "list_certificates";
    s.list(lc, None, Some(3), Some(true), listed(&all[..3], true), "first 3, oldest first");
    s.list(lc, None, Some(3), Some(false), listed(&rev(&all)[..3], true), "first 3, newest first");
    s.list(lc, None, Some(1), Some(true), listed(&all[..1], true), "page size 1, ascending");
    s.list(lc, None, Some(1), Some(false), listed(&rev(&all)[..1], true), "page size 1, descending");
    s.list(lc, None, Some(6), Some(true), listed(&all[..6], true), "page size 6 of 7");
    s.list(lc, None, Some(10), Some(true), listed(&all, false), "page size 10: everything, no next page");
    s.list(lc, None, Some(250), Some(false), listed(&rev(&all), false), "page size 250 (the maximum), descending");
    s.list(lc, None, None, Some(true), listed(&all, false), "default page size (25), ascending");
    let lbc = "list_certificates_by_ca";
    let of_ed = [c1, c3, c5, c7];
    let of_rsa = [c2, c6];
    s.list(lbc, Some(&ed.id), Some(2), Some(true), listed(&of_ed[..2], true), "CA 1, first 2 ascending");
    s.list(lbc, Some(&ed.id), Some(2), Some(false), listed(&rev(&of_ed)[..2], true), "CA 1, first 2 descending");
    s.list(lbc, Some(&ed.id), Some(10), Some(false), listed(&rev(&of_ed), false), "CA 1, all, descending");
    s.list(lbc, Some(&rsa.id), Some(10), Some(true), listed(&of_rsa, false), "CA 2, all, ascending");
    s.list(lbc, Some(&p256.id), Some(10), Some(true), listed(&[], false), "CA 3 has no certificates");
    let lca = "list_ca_certificates";
    s.list(lca, None, Some(10), Some(true), listed(&[ed, rsa, p256], false), "CAs, ascending");
    s.list(lca, None, Some(2), Some(false), listed(&[p256, rsa], true), "CAs, first 2 descending");
    s.list(lca, None, Some(1), Some(true), listed(&[ed], true), "CAs, page size 1");

    // Changes that must not reorder, and a deletion.
    s.update_cert(&c1.id, "ACTIVE", obj! {}, "a status change does not change the creation date");
    s.list(lc, None, Some(2), Some(true), listed(&all[..2], true), "same order after the update");
    s.delete_cert(&c3.id, None, obj! {}, "delete certificate 3 (INACTIVE)");
    let rest = [c1, c2, c4, c5, c6, c7];
    s.list(lc, None, Some(3), Some(true), listed(&rest[..3], true), "certificate 3 is gone");
    s.list(lc, None, Some(10), Some(false), listed(&rev(&rest), false), "all remaining, descending");
    s.list(lbc, Some(&ed.id), Some(10), Some(true), listed(&[c1, c5, c7], false), "CA 1 without certificate 3");
    s
}

fn rev<'a>(v: &[&'a Cert]) -> Vec<&'a Cert> {
    v.iter().rev().copied().collect()
}
