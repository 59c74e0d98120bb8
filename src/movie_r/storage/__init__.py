"""The storage root shared by the services: its layout, versions and the champion, typed records, journals, signatures.

The lowest layer of the core: imports nothing of movie_r but `errors`."""
