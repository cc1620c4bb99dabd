// The dispatch shape for a flat range of work items, computed in one place.
//
// WebGPU caps each dispatch dimension (maxComputeWorkgroupsPerDimension, 65535 by default), so
// large ranges fold into y and z. Shaders recover the flat index with
//   i = gid.x + (gid.y + gid.z * nwg.y) * nwg.x * WG
// (`nwg` is @builtin(num_workgroups)) and return early when i >= the item count in params.

export const MAX_WORKGROUPS_PER_DIM = 65535;

export function dispatch1d(
  items: number,
  workgroupSize: number,
  maxPerDim = MAX_WORKGROUPS_PER_DIM,
): [number, number, number] {
  if (!Number.isInteger(items) || items < 0) throw new RangeError(`dispatch1d: bad item count ${items}`);
  const groups = Math.ceil(items / workgroupSize);
  if (groups <= maxPerDim) return [groups, 1, 1];
  const y = Math.ceil(groups / maxPerDim);
  if (y <= maxPerDim) return [Math.ceil(groups / y), y, 1];
  const z = Math.ceil(y / maxPerDim);
  if (z > maxPerDim) throw new RangeError(`dispatch1d: ${items} items is too many to dispatch`);
  return [maxPerDim, Math.ceil(y / z), z];
}
