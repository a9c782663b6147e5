"""The review console: a small web application over one case, served on the local machine."""
