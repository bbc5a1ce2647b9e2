package unkeylocal

import "strings"

// EndpointNeeds is what the endpoint (such as "keys.setPermissions") checks
// of a root key, each api.{apiId}.X written api.*.X: needs of every request,
// conditional only of requests that do more (name a permission that does not
// exist yet, decrypt, ...). ok is false for an endpoint it does not serve.
// The provider's table of root key permissions is checked against it.
func EndpointNeeds(endpoint string) (needs, conditional []string, ok bool) {
	rule, ok := endpointPermissions["/v2/"+endpoint]
	for _, n := range rule.needs {
		needs = append(needs, anyAPI(n))
	}
	for _, also := range rule.also {
		for _, n := range also {
			conditional = append(conditional, anyAPI(n))
		}
	}
	return needs, conditional, ok
}

func anyAPI(need string) string { return strings.Replace(need, "api.{apiId}.", "api.*.", 1) }
