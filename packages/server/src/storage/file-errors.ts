/**
 * File-system failures as infinoted reports them: GLib's G_FILE_ERROR (wire domain
 * "g-file-error-quark"), the code g_file_error_from_errno gives the errno, and the C library's
 * text for it, without a path. Creating a note whose name is too long for the file system, for
 * instance, is refused with `<request-failed code="3" domain="g-file-error-quark">File name too
 * long</request-failed>` by both servers; the full message, with the path, goes to tandemd's log.
 */
import { InfError } from '@tandem/protocol';

const G_FILE_ERROR_DOMAIN = 'g-file-error-quark';

/** errno name -> [GFileError code, strerror text (glibc)]. Unlisted errnos are G_FILE_ERROR_FAILED (24). */
const CODES: Record<string, readonly [number, string]> = {
  EEXIST: [0, 'File exists'],
  EISDIR: [1, 'Is a directory'],
  EACCES: [2, 'Permission denied'],
  ENAMETOOLONG: [3, 'File name too long'],
  ENOENT: [4, 'No such file or directory'],
  ENOTDIR: [5, 'Not a directory'],
  ENXIO: [6, 'No such device or address'],
  ENODEV: [7, 'No such device'],
  EROFS: [8, 'Read-only file system'],
  ETXTBSY: [9, 'Text file busy'],
  EFAULT: [10, 'Bad address'],
  ELOOP: [11, 'Too many levels of symbolic links'],
  ENOSPC: [12, 'No space left on device'],
  ENOMEM: [13, 'Cannot allocate memory'],
  EMFILE: [14, 'Too many open files'],
  ENFILE: [15, 'Too many open files in system'],
  EBADF: [16, 'Bad file descriptor'],
  EINVAL: [17, 'Invalid argument'],
  EPIPE: [18, 'Broken pipe'],
  EAGAIN: [19, 'Resource temporarily unavailable'],
  EINTR: [20, 'Interrupted system call'],
  EIO: [21, 'Input/output error'],
  EPERM: [22, 'Operation not permitted'],
  ENOSYS: [23, 'Function not implemented'],
};

const FAILED_TEXTS: Record<string, string> = {
  EDQUOT: 'Disk quota exceeded',
  ENOTEMPTY: 'Directory not empty',
  EXDEV: 'Invalid cross-device link',
  EBUSY: 'Device or resource busy',
  EFBIG: 'File too large',
  EMLINK: 'Too many links',
};

/** The G_FILE_ERROR for a failed system call (an error with an errno `code`); undefined for anything else. */
export function fileError(err: unknown): InfError | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const errno = (err as NodeJS.ErrnoException | undefined)?.errno;
  if (typeof code !== 'string' || typeof errno !== 'number' || !/^E[A-Z0-9]+$/.test(code)) return undefined;
  const known = CODES[code];
  if (known) return new InfError(G_FILE_ERROR_DOMAIN, known[0], known[1]);
  return new InfError(G_FILE_ERROR_DOMAIN, 24, FAILED_TEXTS[code] ?? `Error ${code}`);
}
