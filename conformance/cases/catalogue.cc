// The catalogue is every case file under conformance/cases/<area>/ (registry, connectivity,
// selection, context, monitor, heal, negative). The build compiles them into the object library
// nsmcert_conformance_catalogue together with this file, which keeps that library non-empty
// while an area has no cases yet.
#include "conformance/cases/registry.h"
