package unkeyclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/unkeyed/sdks/api/go/v2/models/components"
)

// Permission is an Unkey RBAC permission.
type Permission struct {
	ID, Name, Slug, Description string
}

// Role is an Unkey RBAC role; Permissions are the slugs it grants.
type Role struct {
	ID, Name, Description string
	Permissions           []string
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func valueOf(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// CreatePermission creates a permission and returns its ID. Like CreateAPI,
// a create retried after a lost answer is reported as a DuplicateRiskError
// (here the retry most likely failed with 409 instead).
func (c *Client) CreatePermission(ctx context.Context, p Permission) (string, error) {
	var id string
	outcome, err := c.call(ctx, "permissions.createPermission", func(ctx context.Context) error {
		resp, err := c.sdk.Permissions.CreatePermission(ctx, components.V2PermissionsCreatePermissionRequestBody{
			Name: p.Name, Slug: p.Slug, Description: optional(p.Description),
		})
		if err != nil {
			return err
		}
		if resp.V2PermissionsCreatePermissionResponseBody == nil {
			return errNoBody
		}
		id = resp.V2PermissionsCreatePermissionResponseBody.Data.PermissionID
		return nil
	})
	if err == nil && outcome.earlierAttemptMayHaveTakenEffect {
		return id, &DuplicateRiskError{Operation: "permissions.createPermission", Created: id}
	}
	return id, err
}

// GetPermission reads a permission by ID or slug.
func (c *Client) GetPermission(ctx context.Context, ref string) (Permission, error) {
	var out Permission
	_, err := c.call(ctx, "permissions.getPermission", func(ctx context.Context) error {
		resp, err := c.sdk.Permissions.GetPermission(ctx, components.V2PermissionsGetPermissionRequestBody{Permission: ref})
		if err != nil {
			return err
		}
		if resp.V2PermissionsGetPermissionResponseBody == nil {
			return errNoBody
		}
		d := resp.V2PermissionsGetPermissionResponseBody.Data
		out = Permission{ID: d.ID, Name: d.Name, Slug: d.Slug, Description: valueOf(d.Description)}
		return nil
	})
	return out, err
}

// DeletePermission deletes a permission, which takes it from every role and
// key. Its 404 is returned as DeleteKey's is.
func (c *Client) DeletePermission(ctx context.Context, ref string) error {
	out, err := c.call(ctx, "permissions.deletePermission", func(ctx context.Context) error {
		_, err := c.sdk.Permissions.DeletePermission(ctx, components.V2PermissionsDeletePermissionRequestBody{Permission: ref})
		return err
	})
	return deletedByAnEarlierAttempt(out, err)
}

// CreateRole creates a role without permissions and returns its ID (the
// SDK's createRole cannot send permissions: see SetRolePermissions).
func (c *Client) CreateRole(ctx context.Context, name, description string) (string, error) {
	var id string
	outcome, err := c.call(ctx, "permissions.createRole", func(ctx context.Context) error {
		resp, err := c.sdk.Permissions.CreateRole(ctx, components.V2PermissionsCreateRoleRequestBody{
			Name: name, Description: optional(description),
		})
		if err != nil {
			return err
		}
		if resp.V2PermissionsCreateRoleResponseBody == nil {
			return errNoBody
		}
		id = resp.V2PermissionsCreateRoleResponseBody.Data.RoleID
		return nil
	})
	if err == nil && outcome.earlierAttemptMayHaveTakenEffect {
		return id, &DuplicateRiskError{Operation: "permissions.createRole", Created: id}
	}
	return id, err
}

// GetRole reads a role by ID or name.
func (c *Client) GetRole(ctx context.Context, ref string) (Role, error) {
	var out Role
	_, err := c.call(ctx, "permissions.getRole", func(ctx context.Context) error {
		resp, err := c.sdk.Permissions.GetRole(ctx, components.V2PermissionsGetRoleRequestBody{Role: ref})
		if err != nil {
			return err
		}
		if resp.V2PermissionsGetRoleResponseBody == nil {
			return errNoBody
		}
		d := resp.V2PermissionsGetRoleResponseBody.Data
		out = Role{ID: d.ID, Name: d.Name, Description: valueOf(d.Description), Permissions: []string{}}
		for _, p := range d.Permissions {
			out.Permissions = append(out.Permissions, p.Slug)
		}
		return nil
	})
	return out, err
}

// DeleteRole deletes a role, which takes it from every key. Its 404 is
// returned as DeleteKey's is.
func (c *Client) DeleteRole(ctx context.Context, ref string) error {
	out, err := c.call(ctx, "permissions.deleteRole", func(ctx context.Context) error {
		_, err := c.sdk.Permissions.DeleteRole(ctx, components.V2PermissionsDeleteRoleRequestBody{Role: ref})
		return err
	})
	return deletedByAnEarlierAttempt(out, err)
}

// SetRolePermissions makes a role's permissions exactly these slugs
// (permissions.setRolePermissions; missing ones are created). It is
// idempotent, so retried like a read. SDK v2.7.1 has no method for it.
func (c *Client) SetRolePermissions(ctx context.Context, roleID string, slugs []string) error {
	body := struct {
		RoleID      string   `json:"roleId"`
		Permissions []string `json:"permissions"`
	}{roleID, nonNil(slugs)}
	var answer []components.Permission
	_, err := c.call(ctx, "permissions.setRolePermissions", func(ctx context.Context) error {
		return c.post(ctx, "/v2/permissions.setRolePermissions", body, &answer)
	})
	return err
}

// post sends one request to an endpoint the SDK lacks and decodes the
// answer's data into out. It goes through the same transport as the SDK,
// so errors and retries are decided the same way by call.
func (c *Client) post(ctx context.Context, path string, body, out any) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.baseURL+path, bytes.NewReader(raw))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.rootKey)
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("unexpected status %d", resp.StatusCode)
	}
	var envelope struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&envelope); err != nil {
		return err
	}
	if len(envelope.Data) == 0 || string(envelope.Data) == "null" {
		return errors.New("the answer has no data")
	}
	return json.Unmarshal(envelope.Data, out)
}
