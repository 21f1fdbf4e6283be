//! Who is at the other end of a pipe instance: the client's process id and
//! its user's SID, read from the client's token while impersonating it.

use std::ffi::c_void;
use std::io;
use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle};
use std::ptr;
use tokio::net::windows::named_pipe::NamedPipeServer;
use windows_sys::Win32::Foundation::{LocalFree, ERROR_INSUFFICIENT_BUFFER, HANDLE};
use windows_sys::Win32::Security::Authorization::ConvertSidToStringSidW;
use windows_sys::Win32::Security::{GetTokenInformation, RevertToSelf, TokenUser, TOKEN_QUERY, TOKEN_USER};
use windows_sys::Win32::System::Pipes::{GetNamedPipeClientProcessId, ImpersonateNamedPipeClient};
use windows_sys::Win32::System::Threading::{
    GetCurrentProcess, GetCurrentThread, OpenProcessToken, OpenThreadToken,
};

/// The client of a connected pipe instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientIdentity {
    /// Its process id.
    pub pid: u32,
    /// Its user's SID, e.g. `S-1-5-21-…-1001`.
    pub sid: String,
}

/// Why the client could not be identified (it must then not be served).
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// GetNamedPipeClientProcessId failed.
    #[error("client process id: {0}")]
    ProcessId(#[source] io::Error),
    /// ImpersonateNamedPipeClient failed.
    #[error("impersonating the client: {0}")]
    Impersonate(#[source] io::Error),
    /// The client's token could not be opened or read.
    #[error("client token: {0}")]
    Token(#[source] io::Error),
    /// The SID could not be written as a string.
    #[error("client SID: {0}")]
    Sid(#[source] io::Error),
}

/// The process id and user SID of the client connected to `pipe`.
///
/// Impersonation is per thread: this runs impersonate → open the thread's
/// token (as self: an identification-level token cannot be opened
/// otherwise) → revert, in one synchronous call, so no other code runs on
/// this thread as the client. If reverting fails the process aborts: it
/// would otherwise go on as the client.
pub fn client_identity(pipe: &NamedPipeServer) -> Result<ClientIdentity, IdentityError> {
    let handle = pipe.as_raw_handle() as HANDLE;
    let mut pid = 0u32;
    // SAFETY: `handle` is the live server end of a pipe `pipe` borrows;
    // the call writes one u32.
    if unsafe { GetNamedPipeClientProcessId(handle, &mut pid) } == 0 {
        return Err(IdentityError::ProcessId(io::Error::last_os_error()));
    }
    let token = client_token(handle)?;
    let sid = user_sid(&token)?;
    Ok(ClientIdentity { pid, sid })
}

/// The user SID of this process (to let it create further instances of
/// its own pipe).
pub fn current_user_sid() -> io::Result<String> {
    let mut raw: HANDLE = ptr::null_mut();
    // SAFETY: GetCurrentProcess returns a pseudo-handle valid in this
    // process; the call writes one handle, which we then own.
    if unsafe { OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut raw) } == 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `raw` is a token handle just opened and owned by nobody else.
    let token = unsafe { OwnedHandle::from_raw_handle(raw as _) };
    user_sid(&token).map_err(|e| match e {
        IdentityError::Token(e) | IdentityError::Sid(e) => e,
        other => io::Error::other(other),
    })
}

/// Opens the client's token while impersonating it, and reverts.
fn client_token(pipe: HANDLE) -> Result<OwnedHandle, IdentityError> {
    // SAFETY: `pipe` is a live pipe server handle; on success this thread
    // impersonates the client until RevertToSelf below.
    if unsafe { ImpersonateNamedPipeClient(pipe) } == 0 {
        return Err(IdentityError::Impersonate(io::Error::last_os_error()));
    }
    let mut raw: HANDLE = ptr::null_mut();
    // SAFETY: GetCurrentThread's pseudo-handle is valid on this thread; the
    // call writes one handle. OpenAsSelf = TRUE: checked against the
    // process's own context, as an identification-level token requires.
    let opened = unsafe { OpenThreadToken(GetCurrentThread(), TOKEN_QUERY, 1, &mut raw) };
    let open_error = io::Error::last_os_error();
    // SAFETY: no arguments; ends the impersonation begun above.
    if unsafe { RevertToSelf() } == 0 {
        // Going on would serve every later client as this one.
        eprintln!(
            "lecteurd: RevertToSelf failed ({}): aborting",
            io::Error::last_os_error()
        );
        std::process::abort();
    }
    if opened == 0 {
        return Err(IdentityError::Token(open_error));
    }
    // SAFETY: `raw` is a token handle just opened and owned by nobody else.
    Ok(unsafe { OwnedHandle::from_raw_handle(raw as _) })
}

/// The user SID of a token, as a string.
fn user_sid(token: &OwnedHandle) -> Result<String, IdentityError> {
    let token = token.as_raw_handle() as HANDLE;
    let mut size = 0u32;
    // SAFETY: asking the size only (null buffer, length 0); writes one u32.
    let ok = unsafe { GetTokenInformation(token, TokenUser, ptr::null_mut(), 0, &mut size) };
    let e = io::Error::last_os_error();
    if ok != 0 || e.raw_os_error() != Some(ERROR_INSUFFICIENT_BUFFER as i32) || size == 0 {
        return Err(IdentityError::Token(e));
    }
    // u64s: TOKEN_USER holds pointers, so the buffer is aligned for them.
    let mut buf = vec![0u64; (size as usize).div_ceil(8)];
    // SAFETY: `buf` holds at least `size` bytes, aligned for TOKEN_USER.
    let ok = unsafe {
        GetTokenInformation(
            token,
            TokenUser,
            buf.as_mut_ptr().cast::<c_void>(),
            size,
            &mut size,
        )
    };
    if ok == 0 {
        return Err(IdentityError::Token(io::Error::last_os_error()));
    }
    // SAFETY: the call succeeded, so `buf` starts with a TOKEN_USER whose
    // SID pointer points into `buf`, alive until the end of this function.
    let sid = unsafe { (*buf.as_ptr().cast::<TOKEN_USER>()).User.Sid };
    let mut wide: *mut u16 = ptr::null_mut();
    // SAFETY: `sid` is a valid SID (above); the call writes one pointer to
    // a NUL-terminated string it allocates with LocalAlloc.
    if unsafe { ConvertSidToStringSidW(sid, &mut wide) } == 0 || wide.is_null() {
        return Err(IdentityError::Sid(io::Error::last_os_error()));
    }
    // SAFETY: `wide` is NUL-terminated (the function's contract); we read
    // up to the NUL, then free it once with LocalFree.
    let text = unsafe {
        let len = (0..).take_while(|&i| *wide.add(i) != 0).count();
        let text = String::from_utf16(std::slice::from_raw_parts(wide, len));
        LocalFree(wide.cast());
        text
    };
    text.map_err(|e| IdentityError::Sid(io::Error::new(io::ErrorKind::InvalidData, e)))
}
