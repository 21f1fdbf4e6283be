/* Test-only stand-in for Windows' bcryptprimitives.dll under Wine 8.0.
 *
 * Rust's std (1.78 and later) takes its randomness from ProcessPrng in
 * bcryptprimitives.dll; Wine gained that export in 8.13, Debian 12 ships 8.0.
 * This one function forwards to RtlGenRandom (advapi32's SystemFunction036),
 * as Wine's own later implementation does. Built by scripts/wine-prefix into
 * a throwaway Wine prefix; never shipped. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
