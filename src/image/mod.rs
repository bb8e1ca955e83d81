//! Container images: references (the one parser) and the image list files.

pub mod list;
pub mod reference;
