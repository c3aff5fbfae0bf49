/**
 * The directory tree. Node ids come from one counter per server (root = 0) in the order nodes
 * become known, so they are not stable across restarts (protocol.md §3.2). Children of a
 * subdirectory are read from storage when it is first explored; new children are prepended
 * (infinoted lists most recently added first).
 */
import type { NodePath } from '../storage/types.js';
import { nameKey } from '../storage/names.js';

export const SUBDIRECTORY = 'InfSubdirectory';

export interface DirNode {
  id: number;
  name: string;
  /** 'InfSubdirectory' or a note type. */
  type: string;
  parent: DirNode | undefined;
  /** Subdirectories only; undefined until read from storage. */
  children?: DirNode[];
}

export class Tree {
  readonly root: DirNode = { id: 0, name: '', type: SUBDIRECTORY, parent: undefined };
  private readonly byId = new Map<number, DirNode>([[0, this.root]]);
  private nextId = 1;

  get(id: number): DirNode | undefined {
    return this.byId.get(id);
  }

  /** Nodes in the tree, the root included. */
  get size(): number {
    return this.byId.size;
  }

  /** Reserves an id for a node that is not in the tree yet (add-node with subscribe, sync-in). */
  allocateId(): number {
    return this.nextId++;
  }

  /** Inserts a node at the front of its parent's (loaded) children. */
  add(parent: DirNode, name: string, type: string, id = this.allocateId()): DirNode {
    const node: DirNode = { id, name, type, parent };
    if (type === SUBDIRECTORY) node.children = [];
    parent.children!.unshift(node);
    this.byId.set(id, node);
    return node;
  }

  /** Fills in children discovered in storage, assigning ids in listing order. */
  loadChildren(parent: DirNode, entries: readonly { name: string; type: string }[]): void {
    parent.children = [];
    for (const e of entries) {
      const node: DirNode = { id: this.allocateId(), name: e.name, type: e.type, parent };
      parent.children.unshift(node);
      this.byId.set(node.id, node);
    }
  }

  remove(node: DirNode): DirNode[] {
    const removed = [...this.subtree(node)];
    for (const n of removed) this.byId.delete(n.id);
    const siblings = node.parent?.children;
    if (siblings) siblings.splice(siblings.indexOf(node), 1);
    return removed;
  }

  *subtree(node: DirNode): Generator<DirNode> {
    yield node;
    for (const c of node.children ?? []) yield* this.subtree(c);
  }

  findChild(parent: DirNode, name: string): DirNode | undefined {
    const key = nameKey(name);
    return parent.children?.find((c) => nameKey(c.name) === key);
  }

  path(node: DirNode): NodePath {
    const parts: string[] = [];
    for (let n: DirNode | undefined = node; n && n.parent; n = n.parent) parts.unshift(n.name);
    return parts;
  }
}
