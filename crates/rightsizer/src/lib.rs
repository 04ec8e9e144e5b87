//! rightsizer facade (guide under construction).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use rightsizer_catalog as catalog;
pub use rightsizer_model as model;
pub use rightsizer_pack as pack;
pub use rightsizer_place as place;
pub use rightsizer_plan as plan;
pub use rightsizer_sim as sim;
pub use rightsizer_size as size;
