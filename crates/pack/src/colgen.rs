//! Column-generation (Gilmore–Gomory) LP bound for one-dimensional packing.
