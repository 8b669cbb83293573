"""The checkpoints' Merkle trees are RFC 6962's: the reference roots of Certificate Transparency,
and the tree kept by key gives the same roots as one built from scratch."""

import hashlib
import random

from xueji.audit.merkle import Tree, heads_root, leaf_bytes, leaf_hash, root_of

# The reference leaves and the roots of their first 0 to 8 (transparency-dev/merkle,
# testonly/constants.go).
INPUTS = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def test_the_roots_are_the_reference_roots_of_rfc_6962():
    for count, expected in enumerate(ROOTS):
        assert root_of([leaf_hash(data) for data in INPUTS[:count]]).hex() == expected


def test_a_leaf_and_a_node_hash_are_told_apart():
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert (
        root_of([leaf_hash(b"a"), leaf_hash(b"b")])
        == hashlib.sha256(b"\x01" + leaf_hash(b"a") + leaf_hash(b"b")).digest()
    )


def test_a_checkpoint_leaf_is_a_chain_head_in_canonical_json():
    assert leaf_bytes("440304", 12, "ab" * 32) == b'["440304",12,"' + b"ab" * 32 + b'"]'
    root, size = heads_root([("system", 1, "0" * 64), ("440304", 3, "1" * 64)])
    ordered = [
        leaf_hash(leaf_bytes("440304", 3, "1" * 64)),
        leaf_hash(leaf_bytes("system", 1, "0" * 64)),
    ]
    assert (root, size) == (root_of(ordered), 2)


def test_the_tree_kept_by_key_gives_the_roots_of_a_tree_built_afresh():
    chooser = random.Random(17)
    tree = Tree()
    heads: dict[str, tuple[int, str]] = {}
    for step in range(300):
        key = f"{chooser.randrange(60):06d}"
        seq = heads.get(key, (0, ""))[0] + 1
        value = hashlib.sha256(f"{key}{seq}{step}".encode()).hexdigest()
        heads[key] = (seq, value)
        tree.set(key, leaf_bytes(key, seq, value))
        expected, size = heads_root((k, s, h) for k, (s, h) in heads.items())
        assert (tree.root(), len(tree)) == (expected, size)
