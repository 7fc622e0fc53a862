//! OTPX/1 over the local network: the same sealed blob over one TCP connection. The receiver
//! listens on one port, accepts exactly one connection, and gives up after a timeout; the
//! sender connects to the address in the invite. Stream: `"OTPX1L" | session tag (8) |
//! length (u32 BE) | blob`, answered by one byte: `A` (accepted: it decrypted) or `R`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use super::{Invite, MAX_BLOB_BYTES, TransferError, TransferReceiver};

const MAGIC: &[u8; 6] = b"OTPX1L";

fn net(e: std::io::Error) -> TransferError {
    match e.kind() {
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => TransferError::Timeout,
        _ => TransferError::Network(e.to_string()),
    }
}

/// Waits for one sender on `listener` for at most `timeout`, receives the blob into
/// `receiver`, and answers. The listener is not used again.
pub fn receive(
    listener: TcpListener,
    receiver: &mut TransferReceiver,
    timeout: Duration,
    now_s: u64,
) -> Result<(), TransferError> {
    listener.set_nonblocking(true).map_err(net)?;
    let deadline = Instant::now() + timeout;
    let (mut stream, _) = loop {
        match listener.accept() {
            Ok(conn) => break conn,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if Instant::now() >= deadline {
                    return Err(TransferError::Timeout);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(net(e)),
        }
    };
    drop(listener);
    stream.set_nonblocking(false).map_err(net)?;
    let remaining = deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(200));
    stream.set_read_timeout(Some(remaining)).map_err(net)?;
    let result = read_blob(&mut stream, receiver, now_s);
    let _ = stream.write_all(if result.is_ok() { b"A" } else { b"R" });
    result
}

fn read_blob(
    stream: &mut TcpStream,
    receiver: &mut TransferReceiver,
    now_s: u64,
) -> Result<(), TransferError> {
    let mut head = [0u8; 6 + 8 + 4];
    stream.read_exact(&mut head).map_err(net)?;
    if &head[..6] != MAGIC {
        return Err(TransferError::NotAFrame);
    }
    if head[6..14] != receiver.invite().session_id[..8] {
        return Err(TransferError::WrongSession);
    }
    let len = u32::from_be_bytes(head[14..18].try_into().expect("4 bytes")) as u64;
    if len > MAX_BLOB_BYTES as u64 {
        return Err(TransferError::Oversized(len));
    }
    let mut blob = vec![0u8; len as usize];
    stream.read_exact(&mut blob).map_err(net)?;
    receiver.receive_blob(&blob, now_s)
}

/// Sends the sealed blob to the invite's LAN address; returns once the receiver accepted it.
pub fn send(invite: &Invite, blob: &[u8], timeout: Duration) -> Result<(), TransferError> {
    let addr_text = invite
        .lan
        .as_deref()
        .ok_or_else(|| TransferError::Invalid("the invite has no LAN address".into()))?;
    let addr: SocketAddr = addr_text
        .to_socket_addrs()
        .map_err(|e| TransferError::Network(format!("{addr_text}: {e}")))?
        .next()
        .ok_or_else(|| TransferError::Network(format!("{addr_text}: no address")))?;
    let mut stream = TcpStream::connect_timeout(&addr, timeout).map_err(net)?;
    stream.set_read_timeout(Some(timeout)).map_err(net)?;
    stream.set_write_timeout(Some(timeout)).map_err(net)?;
    let mut msg = Vec::with_capacity(18 + blob.len());
    msg.extend_from_slice(MAGIC);
    msg.extend_from_slice(&invite.session_id[..8]);
    msg.extend_from_slice(&(blob.len() as u32).to_be_bytes());
    msg.extend_from_slice(blob);
    stream.write_all(&msg).map_err(net)?;
    let mut answer = [0u8; 1];
    stream.read_exact(&mut answer).map_err(net)?;
    match &answer {
        b"A" => Ok(()),
        _ => Err(TransferError::Network(
            "the receiver refused the transfer".into(),
        )),
    }
}
