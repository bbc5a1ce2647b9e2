package migration

import "encoding/json"

// Private is what a resource keeps beside its state, out of the user's
// sight (Terraform's private state of the resource).
type Private struct {
	// IncompleteCreate: the create failed part-way, so Terraform has marked
	// the resource tainted and would replace it, re-sending every hash.
	IncompleteCreate bool `json:"incomplete_create,omitempty"`
	// Unanswered hashes were sent in a request whose outcome is unknown.
	Unanswered []string `json:"unanswered,omitempty"`
	// APINotFound: the last refresh found no API api_id with the root key.
	APINotFound bool `json:"api_not_found,omitempty"`
}

// Empty reports whether there is nothing to keep.
func (p Private) Empty() bool { return !p.IncompleteCreate && len(p.Unanswered) == 0 && !p.APINotFound }

// EncodePrivate is p as stored; nil when p is empty.
func EncodePrivate(p Private) ([]byte, error) {
	if p.Empty() {
		return nil, nil
	}
	return json.Marshal(p)
}

// DecodePrivate reads what EncodePrivate stored; nothing is an empty Private.
func DecodePrivate(raw []byte) (Private, error) {
	var p Private
	if len(raw) == 0 {
		return p, nil
	}
	err := json.Unmarshal(raw, &p)
	return p, err
}

// StillConfigured keeps the hashes the configuration still has.
func StillConfigured(hashes []string, configured func(hash string) bool) []string {
	var out []string
	for _, h := range hashes {
		if configured(h) {
			out = append(out, h)
		}
	}
	return out
}
