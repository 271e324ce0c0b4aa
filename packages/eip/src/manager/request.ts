import { z } from 'zod';
import type { AllocationRequest } from '../allocation.js';
import { EipError } from '../errors.js';
import { canonicalIp, parseIp } from '../ip.js';

const name = z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a DNS label (a-z, 0-9, - and .)');
const requestSchema = z.strictObject({
  namespace: name,
  name,
  pool: name.optional(),
  ips: z.array(z.string()).max(2).optional(),
  sharingKey: z.string().min(1).max(253).optional(),
  ports: z
    .array(
      z.strictObject({ port: z.number().int().min(1).max(65535), protocol: z.enum(['TCP', 'UDP', 'SCTP']) }),
    )
    .optional(),
  ipFamilyPolicy: z.enum(['SingleStack', 'PreferDualStack', 'RequireDualStack']).optional(),
  ipFamilies: z
    .array(z.enum(['IPv4', 'IPv6']))
    .max(2)
    .optional(),
});

/** Checks a request from outside and puts its addresses in canonical form; `SPROUT_ERR_EIP_BAD_REQUEST` names the field at fault. */
export function validateRequest(request: AllocationRequest): AllocationRequest {
  const r = requestSchema.safeParse(request);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new EipError('SPROUT_ERR_EIP_BAD_REQUEST', i.message, i.path.join('.') || 'request');
  }
  const req = r.data as AllocationRequest;
  if (req.ips) req.ips = req.ips.map((ip) => canonicalIp(ip, 'ip'));
  if (req.ips && new Set(req.ips.map((ip) => parseIp(ip).family)).size !== req.ips.length) {
    throw new EipError('SPROUT_ERR_EIP_BAD_REQUEST', 'at most one address per family', 'ips');
  }
  return req;
}
