"""XMP scanning cost on bait: seconds to read XMP from files of growing size made of `<x:xmpmeta` openings
that never close (the quadratic regex it replaced needed ~67 s for 256 KB, ~16 hours for 8 MiB).

    python benchmarks/bench_xmp.py [--max-mib 64]

Linear cost shows as a constant MiB/s from one size to the next.
"""

from __future__ import annotations

import argparse
import time

from vigie.signals.provenance.metadata import xmp_findings

PACKET = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
          b'<rdf:Description Iptc4xmpExt:DigitalSourceType="trainedAlgorithmicMedia"/></rdf:RDF></x:xmpmeta>')
BAITS = {
    "unclosed packets": lambda n: b"<x:xmpmeta" * (n // 10),
    "unclosed packets, then one real": lambda n: b"<x:xmpmeta" * (n // 10) + PACKET,
    "one packet of field openings": lambda n: b"<x:xmpmeta>" + b"DigitalSourceType>" * (n // 18) + b"</x:xmpmeta>",
    "one packet of unclosed descriptions": lambda n: b"<x:xmpmeta>" + b"<dc:description>" * (n // 16)
    + b"</x:xmpmeta>",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-mib", type=int, default=64)
    args = parser.parse_args()
    for name, make in BAITS.items():
        size = 1 << 20
        while size <= args.max_mib << 20:
            data = make(size)
            start = time.perf_counter()
            findings = xmp_findings(data)
            seconds = time.perf_counter() - start
            print(f"{name:36} {size >> 20:4} MiB  {seconds:7.3f} s  {size / (1 << 20) / max(seconds, 1e-9):9.0f} MiB/s"
                  f"  findings={len(findings)}")
            size *= 4


if __name__ == "__main__":
    main()
