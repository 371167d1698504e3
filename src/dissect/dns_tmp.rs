//! TEMPORARY shim until the DNS dissector lands.
use crate::pageload::model::{DnsAnswer, DnsQuestion};
pub struct DnsMessage {
    pub id: u16,
    pub response: bool,
    pub truncated: bool,
    pub rcode: u16,
    pub questions: Vec<DnsQuestion>,
    pub answers: Vec<DnsAnswer>,
    pub authority: Vec<DnsAnswer>,
    pub stopped: Option<String>,
}
pub fn parse_message(_b: &[u8]) -> Result<DnsMessage, String> {
    Err("shim".into())
}
pub fn rcode_name(r: u16) -> String {
    format!("RCODE{r}")
}
