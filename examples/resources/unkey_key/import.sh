# By <API ID>/<key ID> (getKey does not say which API a key is in), or by key ID alone,
# in which case api_id is taken from the configuration. The plaintext cannot be imported.
terraform import unkey_key.ci api_1234/key_1234
