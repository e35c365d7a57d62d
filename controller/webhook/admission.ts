// The mutating admission webhook endpoint: AdmissionReview v1 in, AdmissionReview v1 out with
// a base64 JSONPatch. Problems with a pod's annotations never block the pod: it is admitted
// unchanged with warnings that kubectl shows.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCodes, SidestashError, errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import { decodeUtf8, readBody, sendError, sendJson } from '../api/http-util.ts';
import { decideInjection } from './injector.ts';
import type { InjectionConfig, InjectionDecision, PodLike } from './injector.ts';

interface AdmissionReview {
  apiVersion?: string;
  kind?: string;
  request?: { uid?: string; kind?: { kind?: string }; operation?: string; namespace?: string; object?: PodLike; dryRun?: boolean };
}

export async function handleAdmission(req: IncomingMessage, res: ServerResponse, config: InjectionConfig, log: Logger): Promise<void> {
  try {
    if (req.method !== 'POST') throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, 'POST an AdmissionReview', { details: { status: 405 } });
    let review: AdmissionReview;
    try {
      review = JSON.parse(decodeUtf8(await readBody(req, 8 * 1024 * 1024))) as AdmissionReview;
    } catch (err) {
      if (err instanceof SidestashError) throw err;
      throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, 'body must be an AdmissionReview (JSON)');
    }
    const r = review.request;
    if (review.apiVersion !== 'admission.k8s.io/v1' || review.kind !== 'AdmissionReview' || typeof r?.uid !== 'string') {
      throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, 'expected an admission.k8s.io/v1 AdmissionReview with request.uid');
    }
    const response: Record<string, unknown> = { uid: r.uid, allowed: true };
    if (r.kind?.kind === 'Pod' && r.operation === 'CREATE' && r.object) {
      let decision: InjectionDecision;
      try {
        decision = decideInjection(r.object, r.namespace ?? 'default', config);
      } catch (err) {
        // A pod of a shape the injector did not expect (the API server validates pods after
        // mutating webhooks): admitted unchanged, never a webhook failure.
        decision = { inject: false, reason: 'unexpected pod shape', warnings: [`the pod could not be read: ${errorMessage(err)}`] };
      }
      const pod = r.object.metadata?.name ?? r.object.metadata?.generateName ?? '?';
      if (decision.inject) {
        response.patchType = 'JSONPatch';
        response.patch = Buffer.from(JSON.stringify(decision.patch)).toString('base64');
        log.info('injecting agent', { namespace: r.namespace, pod, dryRun: r.dryRun === true });
      } else if (decision.warnings) {
        response.warnings = decision.warnings.map((w) => `sidestash: agent not injected: ${w}`);
        log.warn('not injecting agent', { namespace: r.namespace, pod, warnings: decision.warnings });
      }
    }
    sendJson(res, 200, { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response });
  } catch (err) {
    log.warn('admission request refused', { err: errorMessage(err) });
    sendError(res, err);
  }
}
