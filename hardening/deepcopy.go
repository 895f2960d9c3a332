package hardening

import "reflect"

// deepCopy returns a copy of *v that shares no memory with it: what a JSON round trip of
// plain data gives (nil stays nil, empty stays empty), without building JSON's encoder
// and decoder for the type, which a yoroi process (one command, then gone) would pay at
// every start. The types it copies hold only exported fields, no functions and no
// channels; TestDeepCopyTypes holds them to that.
func deepCopy[T any](v *T) *T {
	out := new(T)
	copyValue(reflect.ValueOf(out).Elem(), reflect.ValueOf(v).Elem())
	return out
}

// copyValue sets dst (zero, settable) to a deep copy of src.
func copyValue(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Pointer:
		if !src.IsNil() {
			p := reflect.New(src.Type().Elem())
			copyValue(p.Elem(), src.Elem())
			dst.Set(p)
		}
	case reflect.Slice:
		if !src.IsNil() {
			s := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
			for i := range src.Len() {
				copyValue(s.Index(i), src.Index(i))
			}
			dst.Set(s)
		}
	case reflect.Map:
		if !src.IsNil() {
			m := reflect.MakeMapWithSize(src.Type(), src.Len())
			for it := src.MapRange(); it.Next(); {
				e := reflect.New(src.Type().Elem()).Elem()
				copyValue(e, it.Value())
				m.SetMapIndex(it.Key(), e) // keys are strings or numbers: values, never shared
			}
			dst.Set(m)
		}
	case reflect.Struct:
		for i := range src.NumField() {
			copyValue(dst.Field(i), src.Field(i))
		}
	case reflect.Array:
		for i := range src.Len() {
			copyValue(dst.Index(i), src.Index(i))
		}
	case reflect.Interface:
		if !src.IsNil() {
			e := reflect.New(src.Elem().Type()).Elem()
			copyValue(e, src.Elem())
			dst.Set(e)
		}
	default:
		dst.Set(src)
	}
}
