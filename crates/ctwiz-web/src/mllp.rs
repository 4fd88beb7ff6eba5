//! MLLP (minimal lower layer protocol, HL7 v2.5.1 Appendix C.4) listener for HL7 v2
//! messages from EHR interface engines: each message is framed `0x0B … 0x1C 0x0D`,
//! processed by the same interface use case as the SOAP service, and answered with
//! the ACK/RSP in the same framing on the same connection.
//!
//! MLLP carries no credentials: expose it only on a trusted network (VPN, private
//! link) and rely on MSH-4 naming a registered clinic.

use crate::soap::{InterfaceService, DEFAULT_MAX_MESSAGE_BYTES};
use ctwiz_store::Interface;
use std::io;
use tokio::net::{TcpListener, TcpStream};

const START: u8 = 0x0B;
const END: u8 = 0x1C;
const CR: u8 = 0x0D;

/// Accepts connections on `listener` forever, one task per connection.
pub async fn serve(listener: TcpListener, service: InterfaceService) -> io::Result<()> {
    loop {
        let (stream, peer) = listener.accept().await?;
        let service = service.clone();
        tokio::spawn(async move {
            if let Err(e) = connection(stream, service).await {
                tracing::warn!("MLLP connection from {peer}: {e}");
            }
        });
    }
}

/// Splits MLLP frames out of a byte stream.
#[derive(Debug, Default)]
pub struct Deframer {
    buf: Vec<u8>,
}

impl Deframer {
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete frame's payload, if one has arrived. Bytes before a start
    /// block are line noise and dropped.
    pub fn next_frame(&mut self) -> Option<Vec<u8>> {
        let start = self.buf.iter().position(|&b| b == START)?;
        let end = self.buf[start..]
            .windows(2)
            .position(|w| w == [END, CR])
            .map(|p| start + p)?;
        let payload = self.buf[start + 1..end].to_vec();
        self.buf.drain(..end + 2);
        Some(payload)
    }

    pub fn buffered(&self) -> usize {
        self.buf.len()
    }
}

/// Frames a payload for sending.
pub fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 3);
    out.push(START);
    out.extend_from_slice(payload);
    out.extend_from_slice(&[END, CR]);
    out
}

async fn connection(stream: TcpStream, service: InterfaceService) -> io::Result<()> {
    let mut frames = Deframer::default();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        stream.readable().await?;
        let n = match stream.try_read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        };
        frames.push(&buf[..n]);
        if frames.buffered() > 2 * DEFAULT_MAX_MESSAGE_BYTES {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "MLLP frame larger than the message limit",
            ));
        }
        while let Some(payload) = frames.next_frame() {
            let text = String::from_utf8_lossy(&payload).into_owned();
            let answer = service
                .process(text, Interface::Hl7)
                .await
                .map_err(io::Error::other)?;
            write_all(&stream, &frame(answer.as_bytes())).await?;
        }
    }
}

async fn write_all(stream: &TcpStream, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        stream.writable().await?;
        match stream.try_write(bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_split_across_reads_and_noise_is_dropped() {
        let mut d = Deframer::default();
        let two = [frame(b"MSH|a\r"), frame(b"MSH|b\r")].concat();
        d.push(b"noise");
        d.push(&two[..4]);
        assert_eq!(d.next_frame(), None);
        d.push(&two[4..]);
        assert_eq!(d.next_frame().as_deref(), Some(&b"MSH|a\r"[..]));
        assert_eq!(d.next_frame().as_deref(), Some(&b"MSH|b\r"[..]));
        assert_eq!(d.next_frame(), None);
        assert_eq!(d.buffered(), 0);
    }
}
