//! rnpu-sim — skeleton only; not implemented yet (see issues 3-5).
