"""Fingerprint stage: word shingles, MinHash signatures + LSH bands, immutable shingles."""

from storytrace.fingerprint.immutables import (
    immutable_shingles,
    immutables,
    shared_immutable_pairs,
    shared_pairs,
)
from storytrace.fingerprint.minhash import (
    LSHIndex,
    band_keys,
    bucket_pairs,
    jaccard_estimate,
    optimal_bands,
    signatures,
    signatures_flat,
)
from storytrace.fingerprint.shingles import (
    WordHasher,
    batch_shingles,
    ngram_hashes,
    sentence_hashes,
    shingle_hashes,
    words,
)

__all__ = [
    "LSHIndex",
    "WordHasher",
    "band_keys",
    "batch_shingles",
    "bucket_pairs",
    "immutable_shingles",
    "immutables",
    "jaccard_estimate",
    "ngram_hashes",
    "optimal_bands",
    "sentence_hashes",
    "shared_immutable_pairs",
    "shared_pairs",
    "shingle_hashes",
    "signatures",
    "signatures_flat",
    "words",
]
