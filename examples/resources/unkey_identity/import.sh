# By identity ID or by external ID.
terraform import unkey_identity.acme id_1234
terraform import unkey_identity.acme acme
