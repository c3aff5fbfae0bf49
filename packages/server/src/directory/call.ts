import type { Element } from '@tandem/protocol';

/** A directory request as its handler sees it (the directory's own and the ACL service's). */
export interface DirectoryCall {
  el: Element;
  /**
   * infd_directory_make_seq: the seq, or the error of an invalid one. Each handler asks where
   * libinfinity's does, so that the checks before it report their own errors first.
   */
  makeSeq(): string | undefined;
}
