//! TLS handshakes of our own recordings against their manifests: version, SNI, ALPN where
//! it is in clear text (TLS 1.2), and the TLS 1.2 certificate chain (ECDSA P-256,
//! leaf → intermediate → the recorder's root in `ca.crt`). Decrypted fields (the TLS 1.3
//! ALPN from EncryptedExtensions) are checked in tests/decrypt.rs.

mod common;

use common::*;

fn check(dir: &str) {
    let r = analyze(&fixture(&format!("{dir}/pageload.pcap")));
    let m = manifest(dir);
    let mut tls_seen = 0;
    for mc in m["connections"].as_array().unwrap() {
        let client = endpoint(
            mc["client_ip"].as_str().unwrap(),
            mc["client_port"].as_u64().unwrap(),
        );
        let c = r
            .connections
            .iter()
            .find(|c| c.client == client)
            .expect("connection");
        let Some(want) = mc["tls_version"].as_str() else {
            assert!(c.tls.is_none(), "{client}: clear text");
            continue;
        };
        tls_seen += 1;
        let t = c.tls.as_ref().unwrap_or_else(|| panic!("{client}: TLS"));
        assert_eq!(
            t.version.as_deref(),
            Some(format!("TLS {want}").as_str()),
            "{client}"
        );
        assert_eq!(t.sni.as_deref(), mc["host"].as_str(), "{client}");
        assert_eq!(c.hostname.as_deref(), mc["host"].as_str());
        assert!(
            t.alpn_offered
                .iter()
                .any(|a| Some(a.as_str()) == mc["alpn"].as_str()),
            "{client}: {:?}",
            t.alpn_offered
        );
        assert!(t.ja3.as_deref().is_some_and(|j| j.len() == 32));
        // JA4: TCP, the highest version the client offered (curl is capped at the phase's
        // version), SNI present, then the first ALPN's first and last characters.
        let ja4 = t.ja4.clone().unwrap();
        let prefix = if want == "1.3" { "t13d" } else { "t12d" };
        assert!(ja4.starts_with(prefix), "{ja4}");
        let first_alpn = t.alpn_offered[0].as_bytes();
        let alpn_chars = format!(
            "{}{}",
            first_alpn[0] as char,
            first_alpn[first_alpn.len() - 1] as char
        );
        assert_eq!(&ja4[8..10], alpn_chars, "{ja4}");
        assert!(t.handshake_ms.unwrap() > 0.0);
        assert!(t.client_hello_ts.unwrap() < t.server_hello_ts.unwrap());
        if want == "1.2" {
            assert_eq!(
                t.alpn.as_deref(),
                mc["alpn"].as_str(),
                "{client}: ALPN in the ServerHello"
            );
            assert_eq!(t.certificates.len(), 2, "leaf and intermediate");
            let (leaf, inter) = (&t.certificates[0], &t.certificates[1]);
            assert_eq!(leaf.issuer, inter.subject);
            assert_eq!(inter.issuer, "CN=Pageload Test Root CA,O=record-pageload");
            assert_eq!(leaf.key_type.as_deref(), Some("EC P-256"));
            assert_eq!(leaf.matches_sni, Some(true));
            assert_eq!(leaf.valid_at_capture, Some(true));
            assert!(leaf.san.iter().any(|s| s == "static.example.test"));
            assert_eq!(t.key_exchange.as_deref(), Some("ECDHE"));
        } else {
            // TLS 1.3 hides certificates and the chosen ALPN without keys.
            assert!(t.certificates.is_empty());
        }
    }
    assert!(tls_seen >= 2);
}

#[test]
fn default_pageload_tls_handshakes() {
    check("pageload");
}

#[test]
fn tls12_http2_pageload_tls_handshakes() {
    check("pageload-tls12-h2");
}
