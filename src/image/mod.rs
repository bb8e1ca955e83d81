//! Container images: references (the one parser), and where images are found.

pub mod reference;
