//! A security descriptor made from SDDL, and pipe instances created with it.

use std::ffi::c_void;
use std::io;
use std::ptr;
use tokio::net::windows::named_pipe::{NamedPipeServer, ServerOptions};
use windows_sys::Win32::Foundation::LocalFree;
use windows_sys::Win32::Security::Authorization::{
    ConvertStringSecurityDescriptorToSecurityDescriptorW, SDDL_REVISION_1,
};
use windows_sys::Win32::Security::SECURITY_ATTRIBUTES;

/// A self-relative security descriptor (from SDDL) and the
/// `SECURITY_ATTRIBUTES` pointing at it, for every instance of a pipe.
pub struct PipeSecurity {
    /// Allocated by `ConvertStringSecurityDescriptorToSecurityDescriptorW`;
    /// freed with `LocalFree` on drop. Never null.
    descriptor: *mut c_void,
    attributes: SECURITY_ATTRIBUTES,
}

// SAFETY: the descriptor is memory this value owns alone and never writes
// after creation; Win32 only reads it (CreateNamedPipeW copies it into the
// pipe), so sharing or moving it between threads is sound.
unsafe impl Send for PipeSecurity {}
// SAFETY: as above, nothing mutates it through a shared reference.
unsafe impl Sync for PipeSecurity {}

impl PipeSecurity {
    /// The descriptor an SDDL string describes, e.g.
    /// `D:P(A;;GA;;;SY)(A;;GA;;;BA)`. An invalid string is an
    /// `InvalidInput` error with the system's reason.
    pub fn from_sddl(sddl: &str) -> io::Result<PipeSecurity> {
        let wide: Vec<u16> = sddl.encode_utf16().chain(Some(0)).collect();
        let mut descriptor: *mut c_void = ptr::null_mut();
        // SAFETY: `wide` is NUL-terminated and outlives the call; the
        // function writes one pointer to `descriptor`, and the size pointer
        // may be null (documented as optional).
        let ok = unsafe {
            ConvertStringSecurityDescriptorToSecurityDescriptorW(
                wide.as_ptr(),
                SDDL_REVISION_1,
                &mut descriptor,
                ptr::null_mut(),
            )
        };
        if ok == 0 || descriptor.is_null() {
            let e = io::Error::last_os_error();
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("SDDL {sddl:?}: {e}"),
            ));
        }
        Ok(PipeSecurity {
            descriptor,
            attributes: SECURITY_ATTRIBUTES {
                nLength: size_of::<SECURITY_ATTRIBUTES>() as u32,
                lpSecurityDescriptor: descriptor,
                bInheritHandle: 0,
            },
        })
    }
}

impl Drop for PipeSecurity {
    fn drop(&mut self) {
        // SAFETY: allocated by ConvertStringSecurityDescriptorToSecurityDescriptorW
        // (LocalAlloc), freed once, here; no pipe keeps a pointer to it.
        unsafe { LocalFree(self.descriptor) };
    }
}

/// Creates an instance of the pipe `name` with `options` and the
/// descriptor of `security` (tokio's `create` would give the default DACL,
/// which lets everyone read).
pub fn create_pipe(
    options: &ServerOptions,
    name: &str,
    security: &PipeSecurity,
) -> io::Result<NamedPipeServer> {
    let attributes: *const SECURITY_ATTRIBUTES = &security.attributes;
    // SAFETY: the pointer is to a valid SECURITY_ATTRIBUTES whose descriptor
    // lives as long as `security`, which outlives this call; CreateNamedPipeW
    // only reads it (hence the cast from const) and copies the descriptor.
    unsafe { options.create_with_security_attributes_raw(name, attributes as *mut c_void) }
}

/// How many bytes wait to be read on a pipe handle (client or server end),
/// without reading them: how a blocking client waits for an answer with a
/// timeout, since reads on a synchronous handle cannot be interrupted.
pub fn pipe_bytes_available(pipe: &impl std::os::windows::io::AsHandle) -> io::Result<u32> {
    use std::os::windows::io::AsRawHandle;
    let handle = pipe.as_handle().as_raw_handle();
    let mut available = 0u32;
    // SAFETY: `handle` is open for the duration of the borrow (BorrowedHandle's
    // guarantee); no buffer is passed, one u32 is written.
    let ok = unsafe {
        windows_sys::Win32::System::Pipes::PeekNamedPipe(
            handle as windows_sys::Win32::Foundation::HANDLE,
            ptr::null_mut(),
            0,
            ptr::null_mut(),
            &mut available,
            ptr::null_mut(),
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(available)
}
