//! Node-mix planning: accelerator counts plus co-located pods to instance-type counts.
