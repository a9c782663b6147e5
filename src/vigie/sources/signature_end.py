"""What follows an S/MIME structure's own end (a `.p7m` file's, a `smime.p7m` part's; a detached signature's,
`smime.p7s`; a compression's, `.p7z`; an encryption's, whose content is not read): no mail program reads it,
so a picture or a zip appended to the signature is hidden there. It is looked for only past the structure's own
end, since what was signed may itself be a zip or a picture (`letter.jpg.p7m`), and looked at as what follows a
picture's end is (`trailing.py`): padding passed over, a picture or a video read as the member `after-the-end`,
other bytes said, a zip read as the signature's members after what it signed.

A signature held in memory (up to `max_nested_archive_bytes`) is walked to its end, indefinite lengths and all (and
where its written length was raised over bytes that are no element of it, `held_end`, its end is where they start); a
larger one is not read (said by its reading), and what follows it is found by its outer element's length (DER's),
where it has one, a zip there looked for in chunks as the file is read; one of indefinite length is said.
"""

from __future__ import annotations

from typing import BinaryIO

from vigie.sources.cms import DETACHED_TYPE, SIGNED_TYPE, cms_type, held_end, structure_end, written_end
from vigie.sources.trailing import Following, what_follows


def past_signature(stream: BinaryIO, most: int) -> Following:
    """What follows the signature (or other CMS structure) that starts `stream` (seekable, read from its start): in
    memory where it is `most` bytes at most, else by its written length."""
    size = stream.seek(0, 2)
    stream.seek(0)
    what = "signature" if cms_type(stream.read(512)) in (SIGNED_TYPE, DETACHED_TYPE) else "S/MIME structure"
    stream.seek(0)
    raised: tuple[str, ...] = ()
    if size <= most:
        data = stream.read()
        end = structure_end(data)
        held = held_end(data)
        if end is not None and held is not None and held < end <= size:  # looked at as what follows its end
            raised = (f"its outer length says the {what} runs to byte {end:,}, but what it holds ends at byte "
                      f"{held:,}: a length raised over {end - held:,} bytes (to hide them?), looked at as what "
                      "follows its end",)
            end = held
    else:
        end = written_end(stream.read(16))
        if end is None:
            return Following((f"an S/MIME signature of more than {most:,} bytes (the cap of what is held in memory, "
                              "setting max_nested_archive_bytes) whose length is not written at its start (a "
                              "streaming signer's indefinite length): what follows its end, where a picture or a "
                              "zip may be appended to hide it, not looked for",), None, None)
    if end is None or end > size:  # cut short or hostile: said by its reading
        return Following((), None, None)
    past = what_follows(stream, end, size, what, most)
    return past._replace(notes=raised + past.notes)
