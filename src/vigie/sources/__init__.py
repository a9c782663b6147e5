"""Evidence sources: turn folders, files and archives into a stream of readable entries.

Sources only read. Archive members are streamed, never extracted to disk.
"""

from vigie.sources.base import Entry, Source, join_path
from vigie.sources.directory import DirectorySource, FileSource, open_source

__all__ = ["DirectorySource", "Entry", "FileSource", "Source", "join_path", "open_source"]
