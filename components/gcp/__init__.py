"""Google Cloud components: the same service description as the AWS components, compiled
into Cloud KMS, Cloud Monitoring, Firestore, Cloud Storage and Cloud Logging."""
