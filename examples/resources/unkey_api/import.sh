terraform import unkey_api.payments api_1234
