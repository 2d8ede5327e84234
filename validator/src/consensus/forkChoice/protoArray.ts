// The block tree behind fork choice, stored as a proto-array (Lodestar's `protoArray.ts` idea): nodes live in an array
// in insertion order, so every parent sits before its children. Vote changes arrive as per-block deltas and one
// backward pass turns them into subtree weights; the head is then a short walk down from the anchor. The tree only
// ever holds blocks from the finalized block onwards (pruned after each finalization), so walks stay short.

import type { Root } from "./checkpoint.ts";
import { ForkChoiceError } from "./errors.ts";

export interface ProtoNode {
  readonly root: Root;
  readonly parentRoot: Root | undefined;
  readonly slot: number;
  /** Index of the parent in the array; undefined for the anchor (the oldest block kept). */
  parent: number | undefined;
  /** Sum of the LMD weight of votes for this block and all its descendants. */
  weight: bigint;
  children: number[];
}

export class ProtoArray {
  private nodes: ProtoNode[] = [];
  private indices = new Map<Root, number>();

  constructor(anchorRoot: Root, anchorSlot: number) {
    this.nodes.push({
      root: anchorRoot,
      parentRoot: undefined,
      slot: anchorSlot,
      parent: undefined,
      weight: 0n,
      children: [],
    });
    this.indices.set(anchorRoot, 0);
  }

  get size(): number {
    return this.nodes.length;
  }

  has(root: Root): boolean {
    return this.indices.has(root);
  }

  getNode(root: Root): Readonly<ProtoNode> | undefined {
    const i = this.indices.get(root);
    return i === undefined ? undefined : this.nodes[i];
  }

  /** Roots in insertion order (parents before children). */
  roots(): Root[] {
    return this.nodes.map((n) => n.root);
  }

  /** Appends a block whose parent is known and older; the caller has checked finality constraints. */
  addBlock(root: Root, parentRoot: Root, slot: number): void {
    const parent = this.indices.get(parentRoot);
    if (parent === undefined) throw new ForkChoiceError({ code: "FORK_CHOICE_UNKNOWN_PARENT", root, parentRoot });
    const parentSlot = this.nodes[parent].slot;
    if (slot <= parentSlot) {
      // Slots strictly increase along a chain; ancestor-at-slot lookups rely on it.
      throw new ForkChoiceError({ code: "FORK_CHOICE_BLOCK_SLOT_NOT_AFTER_PARENT", root, slot, parentSlot });
    }
    const index = this.nodes.length;
    this.nodes.push({ root, parentRoot, slot, parent, weight: 0n, children: [] });
    this.nodes[parent].children.push(index);
    this.indices.set(root, index);
  }

  /**
   * Adds each delta to its block and to every ancestor, in one backward pass: a node's accumulated delta is complete
   * once all later (descendant) nodes have passed theirs up. Deltas for unknown (pruned) blocks are dropped.
   */
  applyDeltas(deltas: ReadonlyMap<Root, bigint>): void {
    if (deltas.size === 0) return;
    const acc = new Array<bigint>(this.nodes.length).fill(0n);
    for (const [root, delta] of deltas) {
      const i = this.indices.get(root);
      if (i !== undefined) acc[i] += delta;
    }
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const d = acc[i];
      if (d === 0n) continue;
      const node = this.nodes[i];
      node.weight += d;
      if (node.parent !== undefined) acc[node.parent] += d;
    }
  }

  resetWeights(): void {
    for (const node of this.nodes) node.weight = 0n;
  }

  /** Root of the block at or below `slot` on the chain ending at `root`; undefined if unknown or pruned away. */
  ancestorAtSlot(root: Root, slot: number): Root | undefined {
    const start = this.indices.get(root);
    if (start === undefined) return undefined;
    let node = this.nodes[start];
    while (node.slot > slot) {
      if (node.parent === undefined) return undefined;
      node = this.nodes[node.parent];
    }
    return node.root;
  }

  /** True when `descendant` is `ancestor` or has it on its chain. False when either is unknown. */
  isDescendant(ancestor: Root, descendant: Root): boolean {
    const a = this.getNode(ancestor);
    if (a === undefined || !this.has(descendant)) return false;
    return this.ancestorAtSlot(descendant, a.slot) === ancestor;
  }

  /**
   * LMD-GHOST walk: from `anchorRoot`, repeatedly step to the child with the greatest subtree weight, ties going to
   * the lexicographically greatest root, until a leaf. At the anchor itself only children with a slot after
   * `checkpointSlot` count: a child at or before that slot is not on the chain of checkpoint (checkpointSlot, anchor).
   */
  findHead(anchorRoot: Root, checkpointSlot: number): Root {
    const start = this.indices.get(anchorRoot);
    if (start === undefined) throw new ForkChoiceError({ code: "FORK_CHOICE_UNKNOWN_BLOCK", root: anchorRoot });
    let node = this.nodes[start];
    let minChildSlot = checkpointSlot + 1;
    for (;;) {
      let best: ProtoNode | undefined;
      for (const c of node.children) {
        const child = this.nodes[c];
        if (child.slot < minChildSlot) continue;
        if (
          best === undefined ||
          child.weight > best.weight ||
          (child.weight === best.weight && child.root > best.root)
        ) {
          best = child;
        }
      }
      if (best === undefined) return node.root;
      node = best;
      minChildSlot = 0;
    }
  }

  /**
   * Keeps only the blocks on chains through the finalized checkpoint (finalizedSlot, finalizedRoot): the finalized
   * block and its descendants with a slot after finalizedSlot. Returns the roots removed. Weights are left as they
   * were; the caller recomputes them.
   */
  prune(finalizedRoot: Root, finalizedSlot: number): Root[] {
    const fin = this.indices.get(finalizedRoot);
    if (fin === undefined) throw new ForkChoiceError({ code: "FORK_CHOICE_UNKNOWN_BLOCK", root: finalizedRoot });
    const newIndex = new Array<number | undefined>(this.nodes.length).fill(undefined);
    const kept: ProtoNode[] = [];
    const removed: Root[] = [];
    for (let i = 0; i < this.nodes.length; i++) {
      const node = this.nodes[i];
      let keep: boolean;
      if (i === fin) keep = true;
      else if (node.parent === undefined || newIndex[node.parent] === undefined) keep = false;
      else keep = node.parent !== fin || node.slot > finalizedSlot;
      if (!keep) {
        removed.push(node.root);
        continue;
      }
      newIndex[i] = kept.length;
      kept.push(node);
    }
    if (removed.length === 0) return removed;
    for (const node of kept) {
      node.parent = node.parent === undefined ? undefined : newIndex[node.parent];
      node.children = node.children.map((c) => newIndex[c]).filter((c): c is number => c !== undefined);
    }
    kept[0].parent = undefined;
    this.nodes = kept;
    this.indices = new Map(kept.map((n, i) => [n.root, i]));
    return removed;
  }
}
