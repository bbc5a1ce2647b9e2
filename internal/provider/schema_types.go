package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
)

// withFixedTypes returns a nested attribute whose type, and the types of the
// nested attributes in it, are computed once, here. The framework looks up
// the type at a value's path for every value it decodes (to nullify empty
// blocks), and without a CustomType a nested attribute builds its type again,
// with every attribute map under it, at each lookup: at 1,000 keys that was
// a fifth of the provider's CPU in a plan that changes nothing. The types set
// here are exactly the ones the framework would build (basetypes.ObjectType,
// ListType and MapType of the same attribute types), so the schema Terraform
// sees, the values and every validator are unchanged (TestFixedTypesChangeNothing).
// A CustomType already set is one of another type, and stays.
func withFixedTypes(a schema.Attribute) schema.Attribute {
	switch a := a.(type) {
	case schema.MapNestedAttribute:
		a.NestedObject = fixedObject(a.NestedObject)
		if t, ok := a.GetType().(basetypes.MapType); ok {
			a.CustomType = t
		}
		return a
	case schema.ListNestedAttribute:
		a.NestedObject = fixedObject(a.NestedObject)
		if t, ok := a.GetType().(basetypes.ListType); ok {
			a.CustomType = t
		}
		return a
	case schema.SingleNestedAttribute:
		a.Attributes = fixedAttributes(a.Attributes)
		if t, ok := a.GetType().(basetypes.ObjectType); ok {
			a.CustomType = t
		}
		return a
	default:
		return a
	}
}

func fixedObject(o schema.NestedAttributeObject) schema.NestedAttributeObject {
	o.Attributes = fixedAttributes(o.Attributes)
	if t, ok := o.Type().(basetypes.ObjectType); ok {
		o.CustomType = t
	}
	return o
}

func fixedAttributes(attrs map[string]schema.Attribute) map[string]schema.Attribute {
	out := make(map[string]schema.Attribute, len(attrs))
	for name, a := range attrs {
		out[name] = withFixedTypes(a)
	}
	return out
}
