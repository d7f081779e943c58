//! Microsoft Azure: Entra ID tokens, the instance metadata service (managed
//! identity) and Azure Container Registry.

pub mod acr;
pub mod app_service;
pub mod client_certificate;
pub mod cloud;
pub mod entra;
pub mod imds;
