//! Vector and heterogeneous bin-elimination search.
