//! Container images into packages: a content-addressed blob cache under the git dir, pulling an
//! image for one platform from its registry, and the OCI image-layout archive (`images.tar`)
//! that `ctr images import`, `nerdctl load`, `docker load` and `podman load` read as it is.

pub mod cache;
pub mod layout;
pub mod pull;
