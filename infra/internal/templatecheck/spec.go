// Package templatecheck checks synthesized CloudFormation templates offline:
// against the CloudFormation resource specification (npm
// @aws-cdk/aws-service-spec, db.json.gz), and against the project's security
// rules.
package templatecheck

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// Spec is the part of the CloudFormation resource specification the checks use.
type Spec struct {
	resources map[string]*resourceSpec
	types     map[string]*typeDef
}

type resourceSpec struct {
	name       string
	properties map[string]*propertySpec
	attributes map[string]bool
}

type typeDef struct {
	name       string
	properties map[string]*propertySpec
}

type propertySpec struct {
	// types holds the current type first, then earlier types CloudFormation still accepts.
	types    []*valueType
	required bool
}

// valueType is a property's type: a primitive, an array or map of a type, a
// reference to a type definition, or a union.
type valueType struct {
	kind    string // string, integer, number, boolean, date-time, json, tag, array, map, ref, union, null
	element *valueType
	ref     string
	union   []*valueType
	allowed []any
}

// raw* mirror the JSON of db.json.gz (only the fields used).
type rawDB struct {
	Schema struct {
		Resource struct {
			Entities []rawResource `json:"entities"`
		} `json:"resource"`
		TypeDefinition struct {
			Entities []rawTypeDef `json:"entities"`
		} `json:"typeDefinition"`
	} `json:"schema"`
}

type rawResource struct {
	ID                 string              `json:"$id"`
	CloudFormationType string              `json:"cloudFormationType"`
	Properties         map[string]rawProp  `json:"properties"`
	Attributes         map[string]struct{} `json:"attributes"`
}

type rawTypeDef struct {
	ID         string             `json:"$id"`
	Name       string             `json:"name"`
	Properties map[string]rawProp `json:"properties"`
}

type rawProp struct {
	Type          rawType   `json:"type"`
	PreviousTypes []rawType `json:"previousTypes"`
	Required      bool      `json:"required"`
}

type rawType struct {
	Type      string   `json:"type"`
	Element   *rawType `json:"element"`
	Reference *struct {
		Ref string `json:"$ref"`
	} `json:"reference"`
	Types         []rawType `json:"types"`
	AllowedValues []any     `json:"allowedValues"`
}

// LoadSpec reads the specification from a db.json.gz file.
func LoadSpec(path string) (*Spec, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open resource specification: %w", err)
	}
	defer f.Close()
	spec, err := ReadSpec(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return spec, nil
}

// ReadSpec reads a gzip-compressed specification database.
func ReadSpec(r io.Reader) (*Spec, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("read resource specification: %w", err)
	}
	defer zr.Close()
	var db rawDB
	if err := json.NewDecoder(zr).Decode(&db); err != nil {
		return nil, fmt.Errorf("decode resource specification: %w", err)
	}
	if len(db.Schema.Resource.Entities) == 0 {
		return nil, fmt.Errorf("resource specification has no resource types")
	}
	s := &Spec{resources: map[string]*resourceSpec{}, types: map[string]*typeDef{}}
	for _, r := range db.Schema.Resource.Entities {
		rs := &resourceSpec{name: r.CloudFormationType, properties: convertProps(r.Properties), attributes: map[string]bool{}}
		for a := range r.Attributes {
			rs.attributes[a] = true
		}
		s.resources[r.CloudFormationType] = rs
	}
	for _, t := range db.Schema.TypeDefinition.Entities {
		s.types[t.ID] = &typeDef{name: t.Name, properties: convertProps(t.Properties)}
	}
	return s, nil
}

func convertProps(raw map[string]rawProp) map[string]*propertySpec {
	out := make(map[string]*propertySpec, len(raw))
	for name, p := range raw {
		ps := &propertySpec{required: p.Required, types: []*valueType{convertType(p.Type)}}
		for _, pt := range p.PreviousTypes {
			ps.types = append(ps.types, convertType(pt))
		}
		out[name] = ps
	}
	return out
}

func convertType(r rawType) *valueType {
	t := &valueType{kind: r.Type, allowed: r.AllowedValues}
	if r.Element != nil {
		t.element = convertType(*r.Element)
	}
	if r.Reference != nil {
		t.ref = r.Reference.Ref
	}
	for _, u := range r.Types {
		t.union = append(t.union, convertType(u))
	}
	return t
}

// HasResourceType reports whether the specification knows a resource type.
func (s *Spec) HasResourceType(t string) bool {
	_, ok := s.resources[t]
	return ok
}
