//! QUIC v1 Initial packet protection (RFC 9001 5), the sealing side of what pagetrace
//! removes: fuzzed frames become Initial packets that authenticate, so they reach the frame
//! parser, CRYPTO reassembly and the ClientHello inside.
//!
//! Keys come from pagetrace's own derivation (`initial_secrets`, `key_material`, tested
//! against RFC 9001 A.1); the sealing here is independent (aes-gcm, aes).

use aes::cipher::BlockCipherEncrypt;
use aes_gcm::aead::{AeadInOut, Nonce};
use aes_gcm::{Aes128Gcm, KeyInit};
use pagetrace::dissect::quic::crypto::{initial_secrets, key_material};
use pagetrace::dissect::quic::packet::V1;

/// The client's first Destination Connection ID (RFC 9001 A's), from which both sides'
/// Initial keys derive.
pub const DCID: [u8; 8] = [0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08];
/// The client's Source Connection ID (the server's Initials are sent to it).
pub const CLIENT_CID: [u8; 8] = [0xc1; 8];
/// The server's Source Connection ID.
pub const SERVER_CID: [u8; 8] = [0x5e; 8];

/// One direction's Initial protection, with its packet number.
pub struct InitialSealer {
    aead: Aes128Gcm,
    iv: [u8; 12],
    hp: aes::Aes128,
    pn: u64,
    client: bool,
}

impl InitialSealer {
    pub fn new(client: bool) -> InitialSealer {
        let (c, s) = initial_secrets(V1, &DCID).expect("v1 secrets");
        let m = key_material(V1, if client { &c } else { &s }).expect("v1 keys");
        InitialSealer {
            aead: Aes128Gcm::new_from_slice(&m.key).expect("16-byte key"),
            iv: m.iv,
            hp: aes::Aes128::new_from_slice(&m.hp).expect("16-byte key"),
            pn: 0,
            client,
        }
    }

    /// A protected Initial packet carrying `frames` (padded with PADDING to the 4 bytes
    /// header protection samples need; cut at 16000 bytes). `pn_skip` jumps the packet
    /// number forward (loss, reordering as the receiver sees it).
    pub fn seal(&mut self, frames: &[u8], pn_skip: u8) -> Vec<u8> {
        let mut payload = frames[..frames.len().min(16_000)].to_vec();
        if payload.len() < 4 {
            payload.resize(4, 0);
        }
        self.pn += u64::from(pn_skip);
        let pn = self.pn;
        self.pn += 1;
        // RFC 9000 17.2.2: 0b11 form/fixed, type 00 (Initial), packet number length 2.
        let mut p = vec![0xc1];
        p.extend_from_slice(&V1.to_be_bytes());
        let (dcid, scid) = if self.client {
            (&DCID, &CLIENT_CID)
        } else {
            (&CLIENT_CID, &SERVER_CID)
        };
        p.push(dcid.len() as u8);
        p.extend_from_slice(dcid);
        p.push(scid.len() as u8);
        p.extend_from_slice(scid);
        p.push(0); // token length
        let len = (2 + payload.len() + 16) as u16;
        p.extend_from_slice(&(0x4000 | len).to_be_bytes());
        let pn_offset = p.len();
        p.extend_from_slice(&(pn as u16).to_be_bytes());
        // RFC 9001 5.3: nonce = iv XOR the packet number; the header is the AAD.
        let mut nonce = self.iv;
        for (n, b) in nonce[4..].iter_mut().zip(pn.to_be_bytes()) {
            *n ^= b;
        }
        let tag = self
            .aead
            .encrypt_inout_detached(
                &Nonce::<Aes128Gcm>::from(nonce),
                &p,
                payload.as_mut_slice().into(),
            )
            .expect("seal");
        p.extend_from_slice(&payload);
        p.extend_from_slice(&tag);
        // RFC 9001 5.4: sample 16 bytes from pn_offset + 4; mask the low 4 bits of the first
        // byte and the packet number.
        let mut block = aes::Block::default();
        block.copy_from_slice(&p[pn_offset + 4..pn_offset + 20]);
        self.hp.encrypt_block(&mut block);
        p[0] ^= block[0] & 0x0f;
        p[pn_offset] ^= block[1];
        p[pn_offset + 1] ^= block[2];
        p
    }
}
