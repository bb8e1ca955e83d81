//! Container images: references (the one parser), the image list files, the images of a chart
//! (render, then annotation, then the static fallback of `scan`).

pub mod cache;
pub mod chart;
pub mod list;
pub mod lock;
pub mod reference;
pub mod rendered;
pub mod scan;
