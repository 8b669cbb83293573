"""Merkle trees as Certificate Transparency logs build them (RFC 6962, section 2.1).

A leaf's hash is SHA-256(0x00 || leaf), a node's SHA-256(0x01 || left || right); a list of n > 1
leaves splits at k, the largest power of two smaller than n, into the first k and the rest. The
tree of no leaves has the hash of the empty string.

The leaves of an audit checkpoint are the chains' heads, one per chain in the order of the chain
keys (Python's order of strings: by code point), each the canonical JSON of [key, seq, hash].
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Iterable, Sequence

from xueji.audit.chain import canonical_json

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"


def leaf_bytes(chain: str, seq: int, entry_hash: str) -> bytes:
    """A chain's head as a checkpoint's leaf: its key, last number and last hash."""
    return canonical_json([chain, seq, entry_hash]).encode("utf-8")


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def root_of(hashes: Sequence[bytes]) -> bytes:
    """The Merkle tree hash of leaves given by their leaf hashes."""
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = split(len(hashes))
    return node_hash(root_of(hashes[:k]), root_of(hashes[k:]))


def heads_root(heads: Iterable[tuple[str, int, str]]) -> tuple[bytes, int]:
    """The root and size of the tree of chain heads (key, seq, hash), in the order of the keys."""
    ordered = sorted(heads)
    return root_of([leaf_hash(leaf_bytes(*head)) for head in ordered]), len(ordered)


class Tree:
    """A tree of leaves kept by key whose root is recomputed only along the paths of the leaves
    that changed: `xueji audit verify` checks the root of every checkpoint in turn, each a few
    heads away from the one before."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.hashes: dict[str, bytes] = {}
        self._nodes: dict[tuple[int, int], bytes] = {}

    def __len__(self) -> int:
        return len(self.keys)

    def set(self, key: str, data: bytes) -> None:
        """Put or replace the leaf of `key`."""
        if key not in self.hashes:
            bisect.insort(self.keys, key)
            # Every position after the new key moved: start again.
            self._nodes.clear()
        else:
            self._forget(bisect.bisect_left(self.keys, key))
        self.hashes[key] = leaf_hash(data)

    def root(self) -> bytes:
        if not self.keys:
            return hashlib.sha256(b"").digest()
        return self._node(0, len(self.keys))

    def _forget(self, index: int) -> None:
        low, high = 0, len(self.keys)
        while high - low > 1:
            self._nodes.pop((low, high), None)
            k = split(high - low)
            if index < low + k:
                high = low + k
            else:
                low = low + k

    def _node(self, low: int, high: int) -> bytes:
        if high - low == 1:
            return self.hashes[self.keys[low]]
        found = self._nodes.get((low, high))
        if found is None:
            k = split(high - low)
            found = self._nodes[(low, high)] = node_hash(
                self._node(low, low + k), self._node(low + k, high)
            )
        return found
