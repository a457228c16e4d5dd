//! rnpu-driver — skeleton only; not implemented yet (see issues 3-5).
