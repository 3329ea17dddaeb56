import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';

/** A kind the chart may render: its schema-validating model and its TypeScript interface module. */
export interface KindModel {
  create(data: unknown): { validate(): void };
  /** Module and interface name of the kind's TypeScript type (used for the unknown-field check). */
  type: { module: string; name: string };
}

function kind(
  Model: new (data: never) => { validate(): void },
  module: string,
  name: string,
): KindModel {
  return { create: (data) => new Model(data as never), type: { module, name } };
}

/** Every `apiVersion/kind` the chart renders; anything else is a mistake. */
export const KINDS: Readonly<Record<string, KindModel>> = {
  'v1/ConfigMap': kind(ConfigMap, 'kubernetes-models/v1/ConfigMap', 'IConfigMap'),
  'v1/Secret': kind(Secret, 'kubernetes-models/v1/Secret', 'ISecret'),
  'v1/Service': kind(Service, 'kubernetes-models/v1/Service', 'IService'),
  'v1/ServiceAccount': kind(
    ServiceAccount,
    'kubernetes-models/v1/ServiceAccount',
    'IServiceAccount',
  ),
  'apps/v1/Deployment': kind(Deployment, 'kubernetes-models/apps/v1/Deployment', 'IDeployment'),
  'autoscaling/v2/HorizontalPodAutoscaler': kind(
    HorizontalPodAutoscaler,
    'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler',
    'IHorizontalPodAutoscaler',
  ),
  'policy/v1/PodDisruptionBudget': kind(
    PodDisruptionBudget,
    'kubernetes-models/policy/v1/PodDisruptionBudget',
    'IPodDisruptionBudget',
  ),
  'batch/v1/Job': kind(Job, 'kubernetes-models/batch/v1/Job', 'IJob'),
  'networking.k8s.io/v1/Ingress': kind(
    Ingress,
    'kubernetes-models/networking.k8s.io/v1/Ingress',
    'IIngress',
  ),
  'networking.k8s.io/v1/NetworkPolicy': kind(
    NetworkPolicy,
    'kubernetes-models/networking.k8s.io/v1/NetworkPolicy',
    'INetworkPolicy',
  ),
  'monitoring.coreos.com/v1/ServiceMonitor': kind(
    ServiceMonitor,
    '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor',
    'IServiceMonitor',
  ),
  'monitoring.coreos.com/v1/PrometheusRule': kind(
    PrometheusRule,
    '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule',
    'IPrometheusRule',
  ),
};

/** The `apiVersion/kind` key of a manifest. */
export function kindKey(manifest: { apiVersion: string; kind: string }): string {
  return `${manifest.apiVersion}/${manifest.kind}`;
}
