//! Memory layouts (in progress).
