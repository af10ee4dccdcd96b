//! JSON-valued types: `object`, `array`, `geojson` (and `topojson`), and
//! `geopoint` in its three formats.
//!
//! Values are kept as compact JSON text with object keys sorted, so two
//! objects that differ only in key order or spacing are one value (for
//! `enum` and `unique`). GeoJSON is checked structurally against RFC 7946
//! (and TopoJSON against its specification): the object types, the
//! members each needs, and the nesting of coordinates, not coordinate
//! reference systems or ring orientation.

use std::borrow::Cow;

use crate::raw_json::{Shape, shape};

/// A JSON value's normal form: compact, object keys sorted (and unique).
/// `None` when the text is not JSON, or an object repeats a key.
pub fn normalise(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    write_normal(text, &mut out)?;
    Some(out)
}

fn write_normal(text: &str, out: &mut String) -> Option<()> {
    match shape(text.as_bytes()).ok()? {
        Shape::Object(mut entries) => {
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            if entries.windows(2).any(|pair| pair[0].0 == pair[1].0) {
                return None;
            }
            out.push('{');
            for (i, (key, value)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(key.as_ref()).ok()?);
                out.push(':');
                write_normal(value.get(), out)?;
            }
            out.push('}');
        }
        Shape::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_normal(item.get(), out)?;
            }
            out.push(']');
        }
        Shape::Text(text) => out.push_str(&serde_json::to_string(text.as_ref()).ok()?),
        Shape::Number(_) | Shape::Bool(_) | Shape::Null => out.push_str(text.trim()),
    }
    Some(())
}

/// The normal form of `text` if it is a JSON object (`want_object`) or
/// array.
pub fn compound(text: &str, want_object: bool) -> Option<String> {
    let first = text.trim_start().as_bytes().first().copied();
    let expected = if want_object { b'{' } else { b'[' };
    (first == Some(expected)).then(|| normalise(text))?
}

/// How a `geopoint` is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeoPointFormat {
    /// `"lon, lat"` (the space optional).
    Default,
    /// `[lon, lat]`.
    Array,
    /// `{"lon": …, "lat": …}`.
    Object,
}

/// A geopoint's longitude and latitude, within −180..=180 and −90..=90.
pub fn geopoint(text: &str, format: GeoPointFormat) -> Option<(f64, f64)> {
    let (lon, lat) = match format {
        GeoPointFormat::Default => {
            let (lon, lat) = text.split_once(',')?;
            let lat = lat.strip_prefix(' ').unwrap_or(lat);
            (
                super::number::parse_decimal(lon)?,
                super::number::parse_decimal(lat)?,
            )
        }
        GeoPointFormat::Array => match shape(text.as_bytes()).ok()? {
            Shape::Array(items) if items.len() == 2 => {
                (number(items[0].get())?, number(items[1].get())?)
            }
            _ => return None,
        },
        GeoPointFormat::Object => match shape(text.as_bytes()).ok()? {
            Shape::Object(entries) if entries.len() == 2 => {
                let get = |name: &str| {
                    entries
                        .iter()
                        .find(|(key, _)| key == name)
                        .and_then(|(_, v)| number(v.get()))
                };
                (get("lon")?, get("lat")?)
            }
            _ => return None,
        },
    };
    ((-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat)).then_some((lon, lat))
}

fn number(text: &str) -> Option<f64> {
    match shape(text.as_bytes()).ok()? {
        Shape::Number(x) => Some(x),
        _ => None,
    }
}

/// Which specification a `geojson` field's objects follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeoJsonFormat {
    /// GeoJSON (RFC 7946).
    Default,
    /// TopoJSON.
    TopoJson,
}

/// Whether `text` is a GeoJSON (or TopoJSON) object.
pub fn is_geojson(text: &str, format: GeoJsonFormat) -> bool {
    let Some(object) = Object::of(text) else {
        return false;
    };
    match format {
        GeoJsonFormat::Default => geojson_object(&object),
        GeoJsonFormat::TopoJson => topojson_object(&object),
    }
}

/// An object's members, by name.
struct Object<'a>(Vec<(Cow<'a, str>, &'a serde_json::value::RawValue)>);

impl<'a> Object<'a> {
    fn of(text: &'a str) -> Option<Object<'a>> {
        match shape(text.as_bytes()).ok()? {
            Shape::Object(entries) => Some(Object(entries)),
            _ => None,
        }
    }

    fn get(&self, name: &str) -> Option<&'a str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.get())
    }

    fn kind(&self) -> Option<Cow<'a, str>> {
        crate::raw_json::string(self.get("type")?.as_bytes())
    }
}

fn items(text: &str) -> Option<Vec<&str>> {
    match shape(text.as_bytes()).ok()? {
        Shape::Array(items) => Some(items.iter().map(|i| i.get()).collect()),
        _ => None,
    }
}

/// An array whose every item passes `each`, with at least `min` items.
fn array_of(text: &str, min: usize, each: &dyn Fn(&str) -> bool) -> bool {
    items(text).is_some_and(|items| items.len() >= min && items.into_iter().all(each))
}

/// `[x, y, …]`: two or more numbers.
fn position(text: &str) -> bool {
    array_of(text, 2, &|n| number(n).is_some())
}

fn is_null(text: &str) -> bool {
    text.trim() == "null"
}

/// A bounding box, when present: an array of numbers.
fn bbox_ok(object: &Object<'_>) -> bool {
    object
        .get("bbox")
        .is_none_or(|b| array_of(b, 0, &|n| number(n).is_some()))
}

fn geometry(text: &str) -> bool {
    let Some(object) = Object::of(text) else {
        return false;
    };
    geometry_object(&object)
}

fn geometry_object(object: &Object<'_>) -> bool {
    let coordinates = |check: &dyn Fn(&str) -> bool| object.get("coordinates").is_some_and(check);
    let line = |c: &str| array_of(c, 2, &position);
    let ring = |c: &str| array_of(c, 4, &position);
    let polygon = |c: &str| array_of(c, 0, &ring);
    bbox_ok(object)
        && match object.kind().as_deref() {
            Some("Point") => coordinates(&position),
            Some("MultiPoint") => coordinates(&|c| array_of(c, 0, &position)),
            Some("LineString") => coordinates(&line),
            Some("MultiLineString") => coordinates(&|c| array_of(c, 0, &line)),
            Some("Polygon") => coordinates(&polygon),
            Some("MultiPolygon") => coordinates(&|c| array_of(c, 0, &polygon)),
            Some("GeometryCollection") => object
                .get("geometries")
                .is_some_and(|g| array_of(g, 0, &geometry)),
            _ => false,
        }
}

fn feature(text: &str) -> bool {
    Object::of(text).is_some_and(|object| feature_object(&object))
}

fn feature_object(object: &Object<'_>) -> bool {
    let properties_ok = object
        .get("properties")
        .is_some_and(|p| is_null(p) || p.trim_start().starts_with('{') && Object::of(p).is_some());
    let geometry_ok = object
        .get("geometry")
        .is_some_and(|g| is_null(g) || geometry(g));
    object.kind().as_deref() == Some("Feature") && bbox_ok(object) && properties_ok && geometry_ok
}

fn geojson_object(object: &Object<'_>) -> bool {
    match object.kind().as_deref() {
        Some("Feature") => feature_object(object),
        Some("FeatureCollection") => {
            bbox_ok(object)
                && object
                    .get("features")
                    .is_some_and(|f| array_of(f, 0, &feature))
        }
        _ => geometry_object(object),
    }
}

fn topojson_object(object: &Object<'_>) -> bool {
    if object.kind().as_deref() != Some("Topology") {
        return topojson_geometry_object(object);
    }
    let objects_ok = object
        .get("objects")
        .and_then(Object::of)
        .is_some_and(|objects| {
            objects
                .0
                .iter()
                .all(|(_, g)| Object::of(g.get()).is_some_and(|g| topojson_geometry_object(&g)))
        });
    let arcs_ok = object
        .get("arcs")
        .is_some_and(|arcs| array_of(arcs, 0, &|arc| array_of(arc, 0, &position)));
    objects_ok && arcs_ok
}

fn topojson_geometry_object(object: &Object<'_>) -> bool {
    let arcs = |depth| object.get("arcs").is_some_and(|a| arc_indexes(depth, a));
    match object.kind().as_deref() {
        Some("Point") => object.get("coordinates").is_some_and(position),
        Some("MultiPoint") => object
            .get("coordinates")
            .is_some_and(|c| array_of(c, 0, &position)),
        Some("LineString") => arcs(0),
        Some("MultiLineString" | "Polygon") => arcs(1),
        Some("MultiPolygon") => arcs(2),
        Some("GeometryCollection") => object.get("geometries").is_some_and(|g| {
            array_of(g, 0, &|g| {
                Object::of(g).is_some_and(|g| topojson_geometry_object(&g))
            })
        }),
        _ => false,
    }
}

/// Arrays of arc indexes (whole numbers), nested `depth` levels deeper.
fn arc_indexes(depth: usize, text: &str) -> bool {
    if depth == 0 {
        array_of(text, 0, &|n| number(n).is_some_and(|x| x.fract() == 0.0))
    } else {
        array_of(text, 0, &|inner| arc_indexes(depth - 1, inner))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_forms() {
        assert_eq!(
            normalise(r#"{ "b": [1, 2], "a": {"y": null, "x": "é"} }"#).as_deref(),
            Some(r#"{"a":{"x":"é","y":null},"b":[1,2]}"#)
        );
        assert_eq!(normalise(r#"{"a": 1, "a": 2}"#), None);
        assert_eq!(compound("[1]", true), None);
        assert_eq!(compound(r#"{"a":1}"#, true).as_deref(), Some(r#"{"a":1}"#));
        assert_eq!(compound("{bad", true), None);
        assert_eq!(compound("1", false), None);
    }

    #[test]
    fn geopoints() {
        use GeoPointFormat::*;
        assert_eq!(geopoint("90.5, 45.5", Default), Some((90.5, 45.5)));
        assert_eq!(geopoint("90.5,45.5", Default), Some((90.5, 45.5)));
        for bad in [
            "90.5 ,45.5",
            "181,0",
            "0,91",
            "a,b",
            "[90,45]",
            "90.5,  45.5",
            "1,2,3",
        ] {
            assert_eq!(geopoint(bad, Default), None, "{bad}");
        }
        assert_eq!(geopoint("[90.5, 45.5]", Array), Some((90.5, 45.5)));
        assert_eq!(geopoint("[90,45,1]", Array), None);
        assert_eq!(
            geopoint(r#"{"lat":45,"lon":90}"#, Object),
            Some((90.0, 45.0))
        );
        assert_eq!(geopoint(r#"{"lon":90}"#, Object), None);
        assert_eq!(geopoint(r#"{"lon":90,"lat":45,"alt":1}"#, Object), None);
    }

    #[test]
    fn geojson_structure() {
        let ok = [
            r#"{"type":"Point","coordinates":[1,2]}"#,
            r#"{"type":"LineString","coordinates":[[1,2],[3,4]]}"#,
            r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}"#,
            r#"{"type":"Feature","geometry":null,"properties":null}"#,
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2,3]},"properties":{"a":1}}]}"#,
            r#"{"type":"GeometryCollection","geometries":[{"type":"MultiPoint","coordinates":[]}]}"#,
        ];
        for text in ok {
            assert!(is_geojson(text, GeoJsonFormat::Default), "{text}");
        }
        let bad = [
            r#"{"type":"Point"}"#,
            r#"{"type":"Foo"}"#,
            r#"{"type":"Point","coordinates":[1]}"#,
            r#"{"type":"LineString","coordinates":[[1,2]]}"#,
            r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}"#,
            r#"{"type":"Feature","geometry":null}"#,
            r#"{"type":"Point","coordinates":[1,2],"bbox":"x"}"#,
            "[1,2]",
        ];
        for text in bad {
            assert!(!is_geojson(text, GeoJsonFormat::Default), "{text}");
        }
        let topology = r#"{"type":"Topology","objects":{"a":{"type":"LineString","arcs":[0]}},"arcs":[[[0,0],[1,1]]]}"#;
        assert!(is_geojson(topology, GeoJsonFormat::TopoJson));
        assert!(!is_geojson(
            r#"{"type":"Topology","objects":{}}"#,
            GeoJsonFormat::TopoJson
        ));
    }
}
